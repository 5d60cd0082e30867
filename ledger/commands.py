"""Command models: one frozen, strict pydantic model per command (INTERFACE.md).

`parse_command` turns raw JSON (text or a decoded object) into a model, or raises
LedgerError with `validation_error` naming every bad field, or `pan_not_allowed`
when any string holds what looks like a full card number (R-2.2). Error messages
never echo input values, so nothing a caller sent can leak through them.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from ledger.errors import LedgerError
from ledger.integrity import canonical_json
from ledger.screening import (
    MAX_STRING,
    JsonNumber,
    _nesting,
    _strings_in,
    _validation_error,
    decode_json,
)
from ledger.screening import contains_pan as contains_pan  # re-exported: ledger.application

UTC = UTC
ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
MAX_AMOUNT = Decimal("1000000000.00")
MAX_QUANTITY = 1_000_000

Id = Annotated[str, Field(pattern=ID_PATTERN, strict=True)]


def _to_money(value: Any) -> Decimal:
    # INTERFACE: money is a decimal string. A JSON number is refused, not converted: a
    # binary float is not an amount, and an app sending one has a bug to hear about.
    # (Python callers may pass a Decimal.)
    if not isinstance(value, str | Decimal) or isinstance(value, JsonNumber):
        raise ValueError("must be a decimal string such as \"14.99\"")
    if isinstance(value, str) and not re.fullmatch(r"\s*-?[0-9]+(\.[0-9]*)?\s*", value):
        raise ValueError("must be a decimal string such as \"14.99\"")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a decimal string such as \"14.99\"") from None
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    if amount <= 0:
        raise ValueError("must be positive")
    if amount > MAX_AMOUNT:
        raise ValueError(f"must be at most {MAX_AMOUNT}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("has more than 2 decimal places")
    return amount.quantize(Decimal("0.01"))


# Instants the ledger computes with: billing dates, expiries (365 days) and 30-day windows
# after the last one must still be representable, and years print with four digits.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _to_instant(value: Any) -> datetime:
    """ISO 8601 date or datetime; a bare date means 00:00 UTC, a naive time is UTC."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 date or datetime string")
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            moment = (moment.replace(tzinfo=UTC) if moment.tzinfo is None
                      else moment.astimezone(UTC))
    except (ValueError, OverflowError):
        raise ValueError("must be an ISO 8601 date or datetime") from None
    if not EARLIEST_INSTANT <= moment <= LATEST_INSTANT:
        raise ValueError(f"must be between {EARLIEST_INSTANT.date()} and "
                         f"{LATEST_INSTANT.date()} (UTC)")
    return moment


Money = Annotated[Decimal, BeforeValidator(_to_money),
                  WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$",
                                  "examples": ["14.99"]})]
Instant = Annotated[datetime, BeforeValidator(_to_instant)]
Quantity = Annotated[StrictInt, Field(gt=0, le=MAX_QUANTITY)]
def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must say something: not only spaces")
    return text


# Why a command is sent: free text.
Reason = Annotated[str, Field(min_length=1, max_length=500, strict=True)]
# The reason a correction must give: spaces alone say nothing. (Only there: an
# optional reason of spaces was always accepted, and a retry of such a command must
# still be answered as the first time, R-8.3.)
RequiredReason = Annotated[Reason, AfterValidator(_not_blank)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    command_id: Id | None = None
    account_id: Id
    actor: Id | None = None
    at: Instant | None = None
    reason: Reason | None = None  # why: recorded with the command's events

    @property
    def acting(self) -> str:
        return self.actor or self.default_actor

    @property
    def default_actor(self) -> str:
        """Who acts when `actor` is not given (R-1.2: the account itself)."""
        return self.account_id


class OpenAccount(Command):
    """Opening an agency or company is done by its owner: `actor` defaults to
    `owner_id` there (R-1.5), and names the owner or the new account itself."""

    type: Literal["open_account"]
    kind: Literal["freelancer", "member", "agency", "company", "enterprise"]
    owner_id: Id | None = None

    @model_validator(mode="after")
    def _owner_where_needed(self) -> OpenAccount:
        if self.kind in ("agency", "company") and self.owner_id is None:
            raise ValueError("owner_id is required for an agency or a company")
        if self.kind in ("freelancer", "member") and self.owner_id is not None:
            raise ValueError("owner_id is only for agency, company and enterprise accounts")
        return self

    @property
    def default_actor(self) -> str:
        # Opening an agency or company is done by its owner: the actor defaults to
        # owner_id there (R-1.5: the new account never acts by itself).
        if self.kind in ("agency", "company") and self.owner_id:
            return self.owner_id
        return self.account_id


CARD_BRANDS = (
    "visa", "mastercard", "american_express", "amex", "discover",
    "diners_club", "diners_club_international",
)


def _brand_name(value: Any) -> Any:
    """"Visa", "American Express", "Diners Club International" -> visa, american_express, ..."""
    return "_".join(value.lower().split()) if isinstance(value, str) else value


class AddBillingMethod(Command):
    """The fields marked optional depend on `method`: a card needs `brand`, `last4`,
    `exp_month`, `exp_year` and `token` (and may be `prepaid`); a PayPal account needs
    `email` (and `verified`, R-2.1); neither takes the other's fields."""

    type: Literal["add_billing_method"]
    method_id: Id
    method: Literal["card", "paypal"]
    brand: Annotated[Literal[CARD_BRANDS] | None,  # type: ignore[valid-type]
                     BeforeValidator(_brand_name)] = None
    last4: Annotated[str, Field(pattern=r"^[0-9]{4}$", strict=True)] | None = None
    exp_month: Annotated[StrictInt, Field(ge=1, le=12)] | None = None
    exp_year: Annotated[StrictInt, Field(ge=2000, le=2100)] | None = None
    token: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,128}$", strict=True)] | None = None
    prepaid: StrictBool = False
    email: Annotated[str, Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}$", strict=True)] | None = None
    verified: StrictBool | None = None

    @model_validator(mode="after")
    def _fields_of_the_method(self) -> AddBillingMethod:
        card = {"brand": self.brand, "last4": self.last4, "exp_month": self.exp_month,
                "exp_year": self.exp_year, "token": self.token}
        if self.method == "card" and self.verified is not None:
            raise ValueError("a card does not take verified")
        paypal = {"email": self.email}
        mine, other = (card, paypal) if self.method == "card" else (paypal, card)
        missing = [k for k, v in mine.items() if v is None]
        foreign = [k for k, v in other.items() if v is not None]
        if missing:
            raise ValueError(f"a {self.method} needs {', '.join(missing)}")
        if foreign or (self.method == "paypal" and self.prepaid):
            raise ValueError(f"a {self.method} does not take {', '.join(foreign) or 'prepaid'}")
        return self


class MethodCommand(Command):
    method_id: Id


class MakePrimaryMethod(MethodCommand):
    type: Literal["make_primary_method"]


class RemoveBillingMethod(MethodCommand):
    type: Literal["remove_billing_method"]


class SuspendBillingMethod(MethodCommand):
    type: Literal["suspend_billing_method"]


class ReinstateBillingMethod(MethodCommand):
    type: Literal["reinstate_billing_method"]


class UpgradePlan(Command):
    type: Literal["upgrade_plan"]
    promo_code: Id | None = None


class DowngradePlan(Command):
    type: Literal["downgrade_plan"]


class RedeemPromoCode(Command):
    type: Literal["redeem_promo_code"]
    code: Id


class SuspendAccount(Command):
    type: Literal["suspend_account"]


class ReinstateAccount(Command):
    type: Literal["reinstate_account"]


class RecordPendingEarnings(Command):
    type: Literal["record_pending_earnings"]
    reference: Id
    amount: Money


class ReleaseEarnings(Command):
    type: Literal["release_earnings"]
    reference: Id


class CreditEarnings(Command):
    type: Literal["credit_earnings"]
    amount: Money
    reference: Id | None = None


class WithdrawEarnings(Command):
    type: Literal["withdraw_earnings"]
    amount: Money


class PurchaseConnects(Command):
    type: Literal["purchase_connects"]
    quantity: Quantity


class SubmitProposal(Command):
    type: Literal["submit_proposal"]
    proposal_id: Id
    job_id: Id
    connects: Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]
    invited: StrictBool = False


class WithdrawProposal(Command):
    type: Literal["withdraw_proposal"]
    proposal_id: Id


class CancelJob(Command):
    """Here `reason` keeps its meaning: the kind of cancellation, `cancelled_without_hire`
    or `removed_by_marketplace` (R-5.5), not free text. It is recorded with the events
    as every command's reason is (R-8.6)."""

    type: Literal["cancel_job"]
    job_id: Id
    reason: Literal["cancelled_without_hire", "removed_by_marketplace"]


class OpenContract(Command):
    type: Literal["open_contract"]
    contract_id: Id
    hourly: StrictBool = False
    role: Literal["freelancer", "client"] = "freelancer"


class CloseContract(Command):
    """`hourly` and `role` may be repeated (INTERFACE lists them for both); the open
    contract's own are what count."""

    type: Literal["close_contract"]
    contract_id: Id
    hourly: StrictBool | None = None
    role: Literal["freelancer", "client"] | None = None


class PostJob(Command):
    type: Literal["post_job"]
    job_id: Id


class CloseJob(Command):
    type: Literal["close_job"]
    job_id: Id


class RecordInvoice(Command):
    type: Literal["record_invoice"]
    invoice_id: Id
    amount: Money


class PayInvoice(Command):
    type: Literal["pay_invoice"]
    invoice_id: Id


class AddTeamMember(Command):
    type: Literal["add_team_member"]
    member_id: Id
    role: Literal["admin", "manager", "member"]


class RemoveTeamMember(Command):
    type: Literal["remove_team_member"]
    member_id: Id


class LeaveTeam(Command):
    type: Literal["leave_team"]
    team_id: Id


class CloseAccount(Command):
    type: Literal["close_account"]


def _to_day(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("must be an ISO 8601 date such as \"2016-12-31\"")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date such as \"2016-12-31\"") from None


Day = Annotated[date, BeforeValidator(_to_day)]
ChargeId = Annotated[str, Field(pattern=r"^ch_[0-9a-f]{24}$", strict=True)]


class GrantConnects(Command):
    """R-9.1: goodwill Connects, a marketplace operation with a required reason."""

    type: Literal["grant_connects"]
    quantity: Quantity
    reason: RequiredReason
    expires_on: Day | None = None


class RefundCharge(Command):
    """R-9.2: give a charge back whole, a marketplace operation with a required reason."""

    type: Literal["refund_charge"]
    charge_id: ChargeId
    reason: RequiredReason


COMMAND_MODELS: tuple[type[Command], ...] = (
    OpenAccount, AddBillingMethod, MakePrimaryMethod, RemoveBillingMethod,
    SuspendBillingMethod, ReinstateBillingMethod, UpgradePlan, DowngradePlan,
    RedeemPromoCode, SuspendAccount, ReinstateAccount, RecordPendingEarnings,
    ReleaseEarnings, CreditEarnings, WithdrawEarnings, PurchaseConnects, SubmitProposal,
    WithdrawProposal, CancelJob, OpenContract, CloseContract, PostJob, CloseJob,
    RecordInvoice, PayInvoice, AddTeamMember, RemoveTeamMember, LeaveTeam, CloseAccount,
    GrantConnects, RefundCharge,
)
# who may send each command type. Account actions are done by a person (the
# `actor`); marketplace operations by the marketplace itself, never the account holder.
ACCOUNT_ACTION = "account_action"
MARKETPLACE_OPERATION = "marketplace_operation"
_OPERATIONS = frozenset({
    "suspend_account", "reinstate_account", "suspend_billing_method",
    "reinstate_billing_method", "record_pending_earnings", "release_earnings",
    "credit_earnings", "record_invoice", "cancel_job", "grant_connects", "refund_charge",
})
MODEL_OF_TYPE: dict[str, type[Command]] = {
    m.model_fields["type"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in COMMAND_MODELS
}
COMMAND_KINDS: dict[str, str] = {
    name: MARKETPLACE_OPERATION if name in _OPERATIONS else ACCOUNT_ACTION
    for name in MODEL_OF_TYPE
}


def command_kind(command_type: str) -> str:
    """R-1.4: "account_action" or "marketplace_operation" (KeyError for unknown types)."""
    return COMMAND_KINDS[command_type]


_ANY_COMMAND: TypeAdapter[Any] = TypeAdapter(dict[str, Any])


def _bad_fields(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(command)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "is not a field of this command"
        elif err["type"] == "missing":
            msg = "is required"
        problems.append(f"{loc}: {msg}")
    return problems


def _pan_refused() -> LedgerError:
    return LedgerError(
        "pan_not_allowed",
        "a full card number was sent; send only the gateway token, brand and last 4 digits",
        rule="R-2.2",
    )


def parse_command(raw: Any) -> Command:
    """Raw JSON text, dict or model -> a validated command (or a LedgerError)."""
    if isinstance(raw, Command):
        # A model built in Python skipped the screening of raw input: screen it here.
        if any(contains_pan(s) for s in _strings_in(raw.model_dump(mode="json"))):
            raise _pan_refused()
        return raw
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    data = decode_json(raw) if isinstance(raw, str) else raw
    if not isinstance(data, dict):
        raise _validation_error(["(command): must be a JSON object"])
    texts = _strings_in(data)
    if any(len(t) > MAX_STRING for t in texts):
        # Before the card-number screening, which would scan them at length.
        long_fields = [str(k)[:64] for k, v in data.items()
                       if isinstance(v, str) and len(v) > MAX_STRING]
        if not long_fields or any(contains_pan(k) for k in long_fields):
            long_fields = ["(command)"]
        raise _validation_error([f"{k}: a text longer than {MAX_STRING} characters"
                                 for k in long_fields])
    # Then a card number anywhere (names, nested text, numbers) is refused as such,
    # whatever else is wrong with the command.
    if any(contains_pan(t) for t in texts):
        raise _pan_refused()
    if _nesting(data) > 2:
        raise _validation_error(["(command): fields must be plain values, not nested objects"])
    kind = data.get("type")
    model = MODEL_OF_TYPE.get(kind) if isinstance(kind, str) else None
    if model is None:
        known = ", ".join(sorted(MODEL_OF_TYPE))
        problems = [f"type: must be one of {known}"]
        if not isinstance(data.get("account_id"), str):
            problems.append("account_id: is required")
        # names the command types there are (account actions and marketplace
        # operations); is about the fields of a known command.
        raise _validation_error(problems, rule="R-1.4")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(_bad_fields(exc)) from None


def fingerprint(command: Command) -> str:
    """What the command asks for, without its id: the same id must mean the same content
    (R-8.3). An `actor` naming who acts by default anyway is the same content as none
    (a retry through a key bound to that person, say)."""
    body = command.model_dump(exclude={"command_id"}, exclude_none=True)
    if body.get("actor") == command.default_actor:
        del body["actor"]
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def fingerprints_of(command: Command) -> tuple[str, ...]:
    """Every fingerprint a record of this command may hold: today's, and the one of the
    releases that kept a default `actor` in it (records made then still match)."""
    today = fingerprint(command)
    if command.actor is None or command.actor != command.default_actor:
        return (today,)
    body = command.model_dump(exclude={"command_id"}, exclude_none=True)
    return today, hashlib.sha256(canonical_json(body).encode()).hexdigest()
