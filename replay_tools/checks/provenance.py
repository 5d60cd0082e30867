"""Who sent a marketplace operation and why (R-1.4, R-8.6): the principal is recorded,
and a principal that is an API key of the key ring had the `operations:write` scope;
the operator's own tools (the command line, the Python API) may send both kinds, and a
marketplace operation's actor is recorded, not checked (R-1.4). The key ring's events
are read in log order, so a key is known from the notification that created it on."""

from __future__ import annotations

from typing import Any

from replay_tools.checks.context import Check
from replay_tools.reference import event_name

OPERATIONS_SCOPE = "operations:write"
REASON_LIMIT = 500  # characters


class KeyScopes:
    """The scopes of every API key created so far in the log, by key id."""

    def __init__(self) -> None:
        self.scopes: dict[str, frozenset[str]] = {}

    def note(self, event: Any) -> None:
        """One event of a stream that is not an account's: keep what a key may do."""
        if event is not None and event_name(event) == "ApiKeyCreated":
            key_id, scopes = getattr(event, "key_id", None), getattr(event, "scopes", None)
            if isinstance(key_id, str) and isinstance(scopes, list | tuple | set | frozenset):
                self.scopes[key_id] = frozenset(str(s) for s in scopes)


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
