"""What the ledger answers: command results and the account view (INTERFACE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer


class ErrorInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    rule: str
    message: str
    blockers: list[str] | None = None


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)

    command_id: str | None
    account_id: str | None
    ok: bool
    duplicate: bool = False
    events: list[str] = []
    error: ErrorInfo | None = None
    charge_id: str | None = None  # on results of commands that charged

    def to_json(self) -> dict[str, Any]:
        """The wire form: `error` only on rejections, `blockers` only with closure_blocked,
        `charge_id` only where the command charged."""
        data = self.model_dump(mode="json")
        if data["charge_id"] is None:
            del data["charge_id"]
        if data["error"] is None:
            del data["error"]
        elif data["error"]["blockers"] is None:
            del data["error"]["blockers"]
        return data


class Earnings(BaseModel):
    pending: Decimal
    available: Decimal

    @field_serializer("pending", "available")
    def _two_places(self, value: Decimal) -> str:
        return f"{value:.2f}"


class MethodView(BaseModel):
    method_id: str
    method: str
    brand: str | None
    last4: str | None
    primary: bool
    suspended: bool


class AccountView(BaseModel):
    account_id: str
    kind: str
    status: str
    plan: str | None
    downgrade_pending: bool
    policy_version: str | None
    billing_day: int | None
    cycle_start: date | None
    next_billing_date: date | None
    connects: int
    connects_expiring_30d: int
    earnings: Earnings
    billing_methods: list[MethodView]
    as_of: datetime
    known_at: datetime | None
    version: int
    billing_due: date | None = None

    @field_serializer("as_of", "known_at")
    def _zulu(self, value: datetime | None) -> str | None:
        return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if data["billing_due"] is None:
            del data["billing_due"]
        return data


def to_jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class IfVersion:
    """A command's precondition on its account's version (HTTP's If-Match, RFC 9110):
    one of `versions`, or any version at all (`*`: the account exists) when None.
    `shown` is how the caller wrote it, for the refusal's message."""

    versions: frozenset[str] | None  # the tags' contents, compared as text (strong)
    shown: str

    def holds(self, version: int | None) -> bool:
        return version is not None and (self.versions is None
                                        or str(version) in self.versions)
