"""Which check the audit runs for each event type, by the type's name (its topic's last
part): every type is checked or listed here as exempt with its reason, and
tests/replay/test_check_registry.py fails for a type that is neither.

Adding an event type: add its fold to `replay_tools.reference.FOLDS`, then either its
re-derivation (a function of `Check`) to `COMMAND_CHECKS` (recorded by a command) or
`billing.SCHEDULED` (recorded by a billing date), or a line to `EXEMPT` saying why the
audit does not re-derive it. A type in a stream that is not an account's goes in
`OTHER_STREAMS` with its topic: the log chain covers it, the account replay skips it.
"""

from __future__ import annotations

from collections.abc import Callable

from replay_tools.checks.accounts import ACCOUNT_CHECKS
from replay_tools.checks.billing import SCHEDULED
from replay_tools.checks.context import Check
from replay_tools.checks.corrections import CORRECTION_CHECKS, refund_downgrade
from replay_tools.checks.derive import DERIVE_CHECKS
from replay_tools.checks.records import RECORD_CHECKS

CheckFn = Callable[[Check], None]

COMMAND_CHECKS: dict[str, CheckFn] = {**ACCOUNT_CHECKS, **RECORD_CHECKS, **DERIVE_CHECKS,
                                      **CORRECTION_CHECKS}

# Account event types recorded by commands that the audit folds but does not re-derive
# (type name -> why). None now: the corrections of R-9 are checks/corrections.py's.
EXEMPT: dict[str, str] = {}

# Streams that are not accounts' (topic -> why), besides the command records.
OTHER_STREAMS: dict[str, str] = {
    "ledger/ApiKeyRingStarted": "the API key ring, not an account (ledger/api_keys.py)",
    "ledger/ApiKeyCreated": "the API key ring, not an account (ledger/api_keys.py)",
    "ledger/ApiKeyRevoked": "the API key ring, not an account (ledger/api_keys.py)",
    "ledger/WebhookEndpointCreated": "webhook endpoint registry, not an account (webhooks/)",
    "ledger/WebhookEndpointDeleted": "webhook endpoint registry, not an account (webhooks/)",
    "ledger/PolicyVersionAdopted": "a policy version's content and SHA-256 (R-8.7): "
                                   "checked by checks/adoption.py, not an account",
}

SCHEDULED_ONLY = SCHEDULED - COMMAND_CHECKS.keys()


def check_command_event(c: Check) -> None:
    """The re-derivation of an event a command recorded; an unknown type is a finding."""
    check = COMMAND_CHECKS.get(c.name)
    if check is not None:
        check(c)
    elif c.name == "PlanDowngraded" and getattr(c.event, "reason", None) == "refunded":
        refund_downgrade(c)  # a refunded membership goes to Basic at once
    elif c.name in SCHEDULED_ONLY:
        c.fail("R-8.2", f"{c.name} is recorded by a billing date, not by a command")
    elif c.name not in EXEMPT:
        c.fail("R-8.1", f"{c.name} is an event type the audit neither checks nor exempts",
               category="integrity")


def known_names() -> set[str]:
    return set(COMMAND_CHECKS) | set(SCHEDULED) | set(EXEMPT)
