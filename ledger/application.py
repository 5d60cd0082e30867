"""The Ledger application: command handling, scheduled facts, idempotency, queries.

Data flows one way: command JSON -> pydantic model -> shared checks (R-8.5's order)
-> catch-up of scheduled facts (R-8.2) -> handler guards -> events -> one store
transaction (with the command record) -> views -> queries.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, OperationalError

from ledger.account import Account, account_uuid, event_data
from ledger.billing_run import billing_run
from ledger.clock import Clock, FixedClock, make_clock, parse_instant
from ledger.commands import ID_PATTERN, Command, contains_pan, fingerprint, parse_command
from ledger.errors import LedgerError, PaymentDeclined
from ledger.handlers import BLOCKED_WHEN_SUSPENDED, HANDLERS
from ledger.handlers.authorization import authorize
from ledger.handlers.context import Context
from ledger.handlers.opening import open_account
from ledger.idempotency import CommandRecord, command_uuid, new_record
from ledger.payments import Gateway, SimulatedGateway
from ledger.policy import Catalog, load_catalog
from ledger.results import AccountView, ErrorInfo, Result
from ledger.schedule import catch_up
from ledger.stores import StoreSpec, parse_store_url, schema_lock
from ledger.transcodings import register_ledger_transcodings
from projections.projector import catch_up as project
from projections.queries import account_view
from projections.stores import make_view_recorder

MAX_ATTEMPTS = 8
CACHE_SIZE = 50_000


class Ledger(Application[UUID]):
    name = "ledger"

    def __init__(self, store: StoreSpec, *, clock: Clock, catalog: Catalog,
                 gateway: Gateway) -> None:
        self.store = store
        self.clock = clock
        self.catalog = catalog
        self.gateway = gateway
        self._lock = threading.RLock()
        self._cache: OrderedDict[UUID, Account] = OrderedDict()
        with schema_lock(store):
            super().__init__(env=store.env)
            self.views = make_view_recorder(self)
            self.views.create_views()

    @classmethod
    def open(cls, url: str | None = None, *, clock: Clock | datetime | str | None = None,
             policy: Any = None, gateway: Gateway | None = None) -> Ledger:
        """Open (creating if needed) the store at `url` (default: LEDGER_STORE or
        sqlite:///ledger.db). `clock` fixes "now"; `policy` is a catalog file or data."""

        store = parse_store_url(url)
        catalog = load_catalog(policy if policy is not None else os.environ.get("LEDGER_POLICY"))
        clock = clock if clock is not None else os.environ.get("LEDGER_CLOCK")
        return cls(store, clock=make_clock(clock), catalog=catalog,
                   gateway=gateway or SimulatedGateway())

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_ledger_transcodings(transcoder)

    def close(self) -> None:
        self.factory.close()

    def set_clock(self, when: datetime | str) -> None:
        if isinstance(self.clock, FixedClock):
            self.clock.set(when)
        else:
            self.clock = FixedClock(when)

    # -- commands ------------------------------------------------------------------

    def submit(self, raw: Any) -> Result:
        """Decide one command (JSON text, dict or model) and record its events."""
        with self._lock:
            return self._submit(raw)

    def submit_many(self, raws: Iterable[Any]) -> list[Result]:
        return [self.submit(raw) for raw in raws]

    def _submit(self, raw: Any) -> Result:
        try:
            command = parse_command(raw)
        except LedgerError as exc:
            return _rejected(_raw_field(raw, "command_id"), _raw_field(raw, "account_id"), exc)
        command_id = command.command_id or uuid4().hex
        for attempt in range(MAX_ATTEMPTS):
            try:
                return self._decide_and_save(command, command_id)
            except IntegrityError:
                # Another writer got there first: decide again from fresh state.
                self._cache.clear()
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        return _rejected(command_id, command.account_id, LedgerError(
            "write_conflict",
            f"{command.account_id} kept changing under concurrent writers; send the command "
            "again (same command_id)", rule="R-8.3"))

    def _decide_and_save(self, command: Command, command_id: str) -> Result:
        prior = self._accepted_command(command_id)
        print_ = fingerprint(command)
        if prior is not None:
            if prior.fingerprint != print_:
                return _rejected(command_id, command.account_id, LedgerError(
                    "idempotency_conflict",
                    f"command id {command_id} was already used for a different command",
                    rule="R-8.3"))
            return Result(command_id=command_id, account_id=prior.account_id, ok=True,
                          duplicate=True, events=prior.events)
        now = self.clock.now()
        at = command.at or now
        ctx = Context(self.catalog, self.gateway, now, command_id, self._load)
        checked_time = False
        try:
            acct = self._load(command.account_id)
            if command.type == "open_account":
                if acct is not None:
                    raise LedgerError("account_exists", f"{command.account_id} already exists",
                                      rule="R-1.1")
                self._check_time(None, at, now)
                checked_time = True
                open_account(ctx, command, at)  # type: ignore[arg-type]
            else:
                acct = _existing(acct, command)
                authorize(acct.state, command)
                self._check_time(acct.state.last_at, at, now)
                checked_time = True
                ctx.touched[command.account_id] = acct
                catch_up(ctx, acct, at)
                if acct.state.view.status == "suspended" and command.type in BLOCKED_WHEN_SUSPENDED:
                    raise LedgerError("account_suspended",
                                      f"{command.account_id} is suspended; reinstate it first",
                                      rule="R-1.3")
                HANDLERS[command.type](ctx, acct, command, at)
        except PaymentDeclined as exc:
            return _rejected(command_id, command.account_id, exc, self._save(ctx, None))
        except LedgerError as exc:
            events: list[str] = []
            if any(a.pending_events for a in ctx.touched.values()):
                # Drop what was decided; only the scheduled facts stay.
                self._forget(ctx.touched.values())
                if checked_time:
                    events = self._record_scheduled_only(command, at, now)
            return _rejected(command_id, command.account_id, exc, events)
        except BaseException:
            self._forget(ctx.touched.values())
            raise
        events = _pending_names(ctx)
        record = new_record(command_id, print_, command.account_id, events, at, now)
        self._save(ctx, record)
        return Result(command_id=command_id, account_id=command.account_id, ok=True,
                      events=events)

    def _record_scheduled_only(self, command: Command, at: datetime, now: datetime) -> list[str]:
        """R-8.4: a rejected command records nothing of its own, but the scheduled facts
        that fell due before it are facts of time. Decide them again from fresh state."""
        acct = self._load(command.account_id)
        if acct is None:
            return []
        ctx = Context(self.catalog, self.gateway, now, None, self._load)
        ctx.touched[command.account_id] = acct
        catch_up(ctx, acct, at)
        return self._save(ctx, None)

    def _save(self, ctx: Context, record: CommandRecord | None) -> list[str]:
        names = _pending_names(ctx)
        accounts = list(ctx.touched.values())
        if names or record is not None:
            try:
                self.save(*accounts, *([record] if record is not None else []))
            except BaseException:
                self._forget(accounts)
                raise
            self._remember(accounts)
            self.refresh_views()
        return names

    def _check_time(self, last_at: datetime | None, at: datetime, now: datetime) -> None:
        if last_at is not None and at < last_at:
            raise LedgerError(
                "backdated",
                f"the command is dated {at.isoformat()}, before the account's latest event "
                f"({last_at.isoformat()}); record a correction dated now instead", rule="R-8.2")
        if at > now:
            raise LedgerError("future_dated",
                              f"the command is dated {at.isoformat()}, after the ledger's clock "
                              f"({now.isoformat()})", rule="R-8.2")
        self.catalog.version_on(at.date())

    # -- loading -------------------------------------------------------------------

    def _load(self, account_id: str) -> Account | None:
        return self._load_uuid(account_uuid(account_id))

    def _load_uuid(self, uid: UUID) -> Account | None:
        acct = self._cache.get(uid)
        if acct is not None:
            for event in self.events.get(uid, gt=acct.version):
                cast(Account.Event, event).mutate(acct)
            self._cache.move_to_end(uid)
            return acct
        try:
            acct = self.repository.get(uid)
        except AggregateNotFoundError:
            return None
        self._remember([acct])
        return acct

    def _remember(self, accounts: Iterable[Account]) -> None:
        for acct in accounts:
            self._cache[acct.id] = acct
            self._cache.move_to_end(acct.id)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _forget_uuid(self, uid: UUID) -> None:
        self._cache.pop(uid, None)

    def _forget(self, accounts: Iterable[Account]) -> None:
        for acct in accounts:
            self._cache.pop(acct.id, None)

    def _accepted_command(self, command_id: str) -> CommandRecord | None:
        try:
            record: CommandRecord = self.repository.get(command_uuid(command_id))
        except AggregateNotFoundError:
            return None
        return record

    # -- queries -------------------------------------------------------------------

    def refresh_views(self, progress: Callable[[int], None] | None = None) -> int:
        return project(self.views, self.recorder, self.mapper, progress)

    def account(self, account_id: str, as_of: datetime | str | None = None,
                known_at: datetime | str | None = None) -> AccountView:
        """The account view (INTERFACE.md), now or at a point in time (both times)."""
        return account_view(self, account_id, as_of, known_at)

    def history(self, account_id: str) -> list[dict[str, Any]]:
        """Every event of the account: version, name, both times and its data."""
        events = [cast(Account.Event, e) for e in self.events.get(account_uuid(account_id))]
        if not events:
            raise LedgerError("unknown_account", f"{account_id} does not exist", rule="R-1.1")
        return [{
            "version": e.originator_version,
            "name": type(e).__name__,
            "at": e.at,
            "recorded_at": e.timestamp,
            "data": {k: v for k, v in event_data(e).items() if k not in ("at", "prev_hash")},
        } for e in events]

    def run_billing(self, through: datetime | str,
                    progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        with self._lock:
            return billing_run(self, parse_instant(through), progress)


def _existing(acct: Account | None, command: Command) -> Account:
    if acct is None:
        raise LedgerError("unknown_account",
                          f"{command.account_id} does not exist; open it first", rule="R-1.1")
    if acct.state.view.status == "closed":
        raise LedgerError("account_closed", f"{command.account_id} is closed", rule="R-1.3")
    return acct


def _pending_names(ctx: Context) -> list[str]:
    return [type(e).__name__ for acct in ctx.touched.values() for e in acct.pending_events]


def _raw_field(raw: Any, name: str) -> str | None:
    if isinstance(raw, dict) and isinstance(raw.get(name), str) and len(raw[name]) <= 64:
        value: str = raw[name]
        return value if re.match(ID_PATTERN, value) and not contains_pan(value) else None
    return None


def _rejected(command_id: str | None, account_id: str | None, exc: LedgerError,
              events: list[str] | None = None) -> Result:
    return Result(command_id=command_id, account_id=account_id, ok=False, events=events or [],
                  error=ErrorInfo(code=exc.code, rule=exc.rule, message=exc.message,
                                  blockers=exc.blockers))


__all__ = ["Ledger", "OperationalError"]
