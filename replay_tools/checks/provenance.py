"""Who sent a marketplace operation and why (R-1.4, R-8.6): the principal is recorded,
and a principal that is an API key of the key ring had the `operations:write` scope;
the operator's own tools (the command line, the Python API) may send both kinds, and a
marketplace operation's actor is recorded, not checked (R-1.4). The key ring's events
are read in log order, so a key is known from the notification that created it on.

Every command recorded under an API key (HTTP.md: who could do what, and since when, is
audited) names a key the ring created before it, and one not revoked well before it:
the service checks the key when a request arrives, so a request under way when its key
is revoked may still commit after the revocation; `REVOKED_GRACE` bounds that (the
longest request, a billing run over HTTP included)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from replay_tools.checks.context import Check
from replay_tools.reference import event_name

OPERATIONS_SCOPE = "operations:write"
REASON_LIMIT = 500  # characters
KEY_PREFIX = "key_"  # an API key's id as a principal; `cli:` and `python:` are local
REVOKED_GRACE = timedelta(minutes=15)


class KeyScopes:
    """The scopes of every API key created so far in the log, by key id."""

    def __init__(self) -> None:
        self.scopes: dict[str, frozenset[str]] = {}
        self.revoked: dict[str, datetime] = {}
        self.last_command: tuple[Any, Any] | None = None  # checked once per command

    def note(self, event: Any) -> None:
        """One event of a stream that is not an account's: keep what a key may do."""
        name = event_name(event) if event is not None else None
        key_id = getattr(event, "key_id", None)
        if name == "ApiKeyCreated":
            scopes = getattr(event, "scopes", None)
            if isinstance(key_id, str) and isinstance(scopes, list | tuple | set | frozenset):
                self.scopes[key_id] = frozenset(str(s) for s in scopes)
        elif name == "ApiKeyRevoked" and isinstance(key_id, str):
            when = getattr(event, "timestamp", None)
            if isinstance(when, datetime):
                self.revoked.setdefault(key_id, when)


def check_key(c: Check) -> None:
    """A command recorded under an API key: the ring made the key before it, and had not
    revoked it (beyond REVOKED_GRACE) when it was recorded. Once per command."""
    e, keys = c.event, c.keys
    principal = getattr(e, "principal", None)
    if keys is None or not isinstance(principal, str) or not principal.startswith(KEY_PREFIX):
        return
    command = (c.stream.uid, getattr(e, "command_id", None) or getattr(e, "originator_version", 0))
    if keys.last_command == command:
        return
    keys.last_command = command
    if principal not in keys.scopes:
        c.fail("R-8.6", f"{c.name} was recorded under API key {principal}, which the key "
               "ring had not created", category="integrity")
        return
    revoked, recorded = keys.revoked.get(principal), getattr(e, "timestamp", None)
    if revoked is not None and isinstance(recorded, datetime) \
            and recorded - revoked > REVOKED_GRACE:
        c.fail("R-8.6", f"{c.name} was recorded under API key {principal} after it was "
               "revoked", revoked.isoformat(), recorded.isoformat(), category="integrity")


def check_operation(c: Check, rule: str, what: str) -> None:
    """A marketplace operation's event names its principal and carries its reason, which
    `rule` requires (R-9.1, R-9.2)."""
    e = c.event
    principal = getattr(e, "principal", None)
    if not principal:
        c.fail("R-8.6", f"{what} records no principal (who sent it)")
    elif c.keys is not None and principal in c.keys.scopes \
            and OPERATIONS_SCOPE not in c.keys.scopes[principal]:
        c.fail("R-1.4", f"{what} was sent with API key {principal}, which lacks the "
               f"{OPERATIONS_SCOPE} scope", OPERATIONS_SCOPE, sorted(c.keys.scopes[principal]))
    reason = getattr(e, "command_reason", None)
    if not isinstance(reason, str) or not reason.strip():
        c.fail(rule, f"{what} records no reason; the rule requires one")
    elif len(reason) > REASON_LIMIT:
        c.fail("R-8.6", f"{what} records a reason of {len(reason)} characters (at most "
               f"{REASON_LIMIT})")
