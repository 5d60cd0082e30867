"""One error tree: every rejection has a stable code (INTERFACE.md) and a rule id (RULES.md)."""

from __future__ import annotations

# The rule each code comes from; a raise site may cite a more precise rule.
RULE_OF_CODE: dict[str, str] = {
    "validation_error": "R-6.1",
    "unknown_account": "R-1.1",
    "account_exists": "R-1.1",
    "account_closed": "R-1.3",
    "account_suspended": "R-1.3",
    "not_authorized": "R-1.2",
    "backdated": "R-8.2",
    "future_dated": "R-8.2",
    "no_policy_in_force": "R-0",
    "idempotency_conflict": "R-8.3",
    "unknown_method": "R-2.3",
    "method_exists": "R-6.1",
    "paypal_not_verified": "R-2.1",
    "pan_not_allowed": "R-2.2",
    "cannot_remove_primary": "R-2.4",
    "billing_method_required": "R-3.2",
    "backup_card_required": "R-2.5",
    "payment_failed": "R-3.3",
    "already_plus": "R-4.6",
    "not_plus": "R-4.6",
    "no_plan": "R-4.1",
    "promo_unknown": "R-4.8",
    "promo_expired": "R-4.8",
    "promo_already_redeemed": "R-4.8",
    "promo_not_applicable": "R-4.8",
    "purchase_not_allowed": "R-5.4",
    "invalid_bundle": "R-5.4",
    "connects_limit_exceeded": "R-5.4",
    "insufficient_connects": "R-5.1",
    "invalid_connects_cost": "R-5.5",
    "unknown_proposal": "R-5.5",
    "proposal_not_active": "R-5.5",
    "job_already_cancelled": "R-5.5",
    "insufficient_earnings": "R-6.1",
    "unknown_reference": "R-6.1",
    "unknown_contract": "R-7.1",
    "unknown_job": "R-5.5",
    "unknown_invoice": "R-7.3",
    "not_a_team_member": "R-7.4",
    "closure_blocked": "R-7.1",
    "contact_account_team": "R-7.6",
    "method_suspended": "R-2.6",
    "downgrade_pending": "R-4.9",
    "duplicate_id": "R-6.1",
    "agency_exists": "R-7.4",
    # Corrections and the second round's contract.
    "unknown_charge": "R-9.2",
    "charge_not_refundable": "R-9.2",
    "charge_already_refunded": "R-9.2",
    "refund_failed": "R-9.2",
    "version_mismatch": "R-8.3",
    "policy_mismatch": "R-8.7",
    # Extensions of this project (README, "Error codes added").
    "write_conflict": "R-8.3",
    "store_unavailable": "R-8.4",
}


class LedgerError(Exception):
    """A command the ledger refuses, or a query it cannot answer."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        rule: str | None = None,
        blockers: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule or RULE_OF_CODE.get(code, "R-8.4")
        self.blockers = blockers

    def __str__(self) -> str:
        return f"{self.code} ({self.rule}): {self.message}"


class PaymentDeclined(LedgerError):
    """A charge the gateway (or the funding rules) refused: R-3.3 records PaymentFailed."""

    def __init__(self, message: str, *, rule: str = "R-3.3") -> None:
        super().__init__("payment_failed", message, rule=rule)


class RefundDeclined(PaymentDeclined):
    """A refund the gateway declined: R-9.2 records RefundFailed and nothing else."""

    def __init__(self, message: str) -> None:
        LedgerError.__init__(self, "refund_failed", message, rule="R-9.2")


class CatalogError(ValueError):
    """A policy catalog that does not validate; the message names the field."""


class StoredEventsUnreadable(Exception):
    """An account's stored events do not replay into an account (edited, reordered or
    removed rows): not a bug of the ledger nor a rejection, a log to audit."""

    def __init__(self, account: str, cause: BaseException) -> None:
        super().__init__(
            f"the stored events of account {account} do not replay ({type(cause).__name__}):"
            " the log may have been altered; run `ledger-replay audit` to see where")


def a_kind(kind: str) -> str:
    """`a freelancer`, `an agency`, `an enterprise`: an account kind in a message."""
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"
