"""What may be printed (R-8.9): store URLs without their passwords, and text that came
from outside escaped so that it cannot drive a terminal or forge lines.

Every message that names a store goes through `redact_store_urls`; every text printed
for people that may hold input (ids, reasons, field names, error messages) goes through
`escape_text` (one line) or `escape_lines` (a report of several lines).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

HIDDEN = "***"

# scheme://user:PASSWORD@host… ; the password runs to the last "@" of the word (libpq
# takes the netloc up to it), so an unencoded "@" in a password is hidden too.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:@?#]*:)[^\s]*@")
# ?password=… (libpq accepts the password as a query parameter) and password=… in a
# libpq keyword string.
# (The value stops before a ": " that follows it: the separator of a message such as
# "<url>: connection failed", which a URL's query cannot hold unencoded.)
_PARAM_PASSWORD = re.compile(r"(?i)\b((?:ssl)?password=)('[^']*'|[^\s&'\"]*?(?=:\s|[\s&'\"]|$))")


def redact_store_urls(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every password of a store URL replaced by ***, and with each of the
    given secrets (say, the password of the store in use) hidden wherever it appears."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{HIDDEN}@", text)
    text = _PARAM_PASSWORD.sub(lambda m: f"{m.group(1)}{HIDDEN}", text)
    for secret in secrets:
        if len(secret) >= 3:
            text = text.replace(secret, HIDDEN)
    return text


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _needs_escape(ch: str) -> bool:
    # Controls (ESC starts terminal sequences, CR and LF forge lines), format characters
    # (bidi overrides that reorder what is shown, zero-width ones), line and paragraph
    # separators, unassigned and private-use code points.
    return unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


_PLAIN = re.compile(r"[ -~]*")  # printable ASCII: the common case


def escape_text(text: str) -> str:
    """One line of text safe to print: every control, format or separator character
    written as a \\x / \\u escape. (A backslash is left as it is, so that text already
    escaped is not escaped twice.)"""
    if _PLAIN.fullmatch(text):
        return text
    return "".join(_escaped(ch) if _needs_escape(ch) else ch for ch in text)


def escape_lines(text: str) -> str:
    """A report of several lines: each line escaped, the line breaks between them kept."""
    return "\n".join(escape_text(line) for line in text.split("\n"))
