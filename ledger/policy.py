"""The policy catalog: business rules as versioned data (R-0).

"Policy" here means the marketplace's rules and figures, not eventsourcing's
process-application policy. A catalog is a list of versions, each in force from
its `effective_from` date until the next one; promo codes sit beside them.
"""

from __future__ import annotations

import json
import tomllib
from bisect import bisect_right
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ledger.errors import CatalogError, LedgerError

PlanName = Literal["basic", "plus"]
ConnectsKind = Literal["freelancer", "agency"]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanTerms(_Strict):
    price: Money
    monthly_connects: int = Field(ge=0)
    rollover: Literal["none", "cap", "all"]
    rollover_cap: int | None = Field(default=None, ge=0)
    max_held: int | None = Field(default=None, gt=0)
    may_buy_connects: bool

    @model_validator(mode="after")
    def _cap_goes_with_rollover(self) -> PlanTerms:
        if (self.rollover == "cap") != (self.rollover_cap is not None):
            raise ValueError("rollover_cap is required with rollover 'cap' and only then")
        return self


class Bundles(_Strict):
    """Either a list of bundle sizes on sale, or any multiple of a number."""

    sizes: list[Annotated[int, Field(gt=0)]] | None = None
    multiple_of: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_form(self) -> Bundles:
        if (self.sizes is None) == (self.multiple_of is None):
            raise ValueError("give exactly one of 'sizes' or 'multiple_of'")
        return self

    def sells(self, quantity: int) -> bool:
        if self.sizes is not None:
            return quantity in self.sizes
        assert self.multiple_of is not None
        return quantity % self.multiple_of == 0

    def describe(self) -> str:
        if self.sizes is not None:
            return ", ".join(str(s) for s in self.sizes)
        return f"any multiple of {self.multiple_of}"


class ProposalCost(_Strict):
    min: int = Field(ge=1)
    max: int = Field(ge=1)


class PolicyVersion(_Strict):
    name: str = Field(min_length=1, max_length=64)
    effective_from: date
    last_billable_day: int = Field(ge=1, le=28)
    connect_price: Money
    connects_expire_after_days: int | None = Field(default=None, gt=0)
    proposal_cost: ProposalCost
    plans: dict[ConnectsKind, dict[PlanName, PlanTerms]]
    bundles: dict[ConnectsKind, Bundles]

    @model_validator(mode="after")
    def _every_kind_has_both_plans(self) -> PolicyVersion:
        for kind in ("freelancer", "agency"):
            terms = self.plans.get(kind)
            if terms is None or set(terms) != {"basic", "plus"}:
                raise ValueError(f"plans.{kind} needs both 'basic' and 'plus'")
            if kind not in self.bundles:
                raise ValueError(f"bundles.{kind} is missing")
        return self

    def terms(self, kind: str, plan: str) -> PlanTerms:
        return self.plans[kind][plan]  # type: ignore[index]


class FreeMonths(_Strict):
    kind: Literal["free_months"]
    months: int = Field(ge=1, le=120)


class PercentOff(_Strict):
    kind: Literal["percent_off"]
    percent: int = Field(ge=1, le=100)
    months: int = Field(ge=1, le=120)


class PromoCode(_Strict):
    code: str = Field(min_length=1, max_length=64)
    benefit: Annotated[FreeMonths | PercentOff, Field(discriminator="kind")]
    valid_from: date
    valid_to: date
    plans: list[PlanName]
    kinds: list[ConnectsKind]

    @property
    def percent_off(self) -> int:
        return 100 if isinstance(self.benefit, FreeMonths) else self.benefit.percent

    @property
    def charges(self) -> int:
        return self.benefit.months


class Catalog(_Strict):
    versions: list[PolicyVersion] = Field(min_length=1)
    promo_codes: list[PromoCode] = []

    @model_validator(mode="after")
    def _ordered_and_unique(self) -> Catalog:
        starts = [v.effective_from for v in self.versions]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("versions must be in strictly increasing effective_from order")
        names = [v.name for v in self.versions]
        if len(set(names)) != len(names):
            raise ValueError("version names must be unique")
        return self

    def version_on(self, day: date) -> PolicyVersion:
        """The version in force on `day` (R-0)."""
        index = bisect_right([v.effective_from for v in self.versions], day) - 1
        if index < 0:
            first = self.versions[0]
            raise LedgerError(
                "no_policy_in_force",
                f"no policy version is in force on {day}; the first ({first.name}) "
                f"starts on {first.effective_from}",
                rule="R-0",
            )
        return self.versions[index]

    def named(self, name: str) -> PolicyVersion:
        for version in self.versions:
            if version.name == name:
                return version
        raise KeyError(name)

    def promo(self, code: str) -> PromoCode | None:
        return next((p for p in self.promo_codes if p.code == code), None)


def parse_catalog(data: Any) -> Catalog:
    """Validate catalog data; a bad catalog raises CatalogError naming every bad field."""
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(catalog)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise CatalogError(f"invalid policy catalog: {fields}") from None


def load_catalog(source: str | Path | dict[str, Any] | Catalog | None) -> Catalog:
    """The built-in catalog for None; else a Catalog, a dict, or a JSON / TOML file."""
    if source is None:
        return default_catalog()
    if isinstance(source, Catalog):
        return source
    if isinstance(source, dict):
        return parse_catalog(source)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read policy file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"policy file {path} is not valid JSON/TOML: {exc}") from None
    return parse_catalog(data)


@cache
def default_catalog() -> Catalog:
    text = resources.files("ledger").joinpath("catalog.json").read_text(encoding="utf-8")
    return parse_catalog(json.loads(text))
