"""The Ledger application: command handling, scheduled facts, idempotency, queries.

Data flows one way: command JSON -> pydantic model -> shared checks (R-8.5's order)
-> catch-up of scheduled facts (R-8.2) -> handler guards -> events -> one store
transaction (with the command record) -> views -> queries.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError, JSONTranscoder, OperationalError, Recording

from ledger import api_keys as _api_keys  # noqa: F401 - registers the key ring's topics
from ledger.account import Account, account_uuid, shown_data
from ledger.account_cache import AccountCache
from ledger.adoption import (
    ADOPTIONS_ID,
    PolicyAdoption,
    adopt,
    check_catalog,
    inside_decided_past,
    mismatch,
    store_catalog,
)
from ledger.billing_run import billing_run
from ledger.bulk_load import preload
from ledger.clock import Clock, FixedClock, make_clock, parse_instant
from ledger.commands import (
    MARKETPLACE_OPERATION,
    Command,
    command_kind,
    fingerprint,
    fingerprints_of,
)
from ledger.deciding import Decision, decide
from ledger.errors import CatalogError, LedgerError, StoredEventsUnreadable
from ledger.gateway import SimulatedGateway, journal_for
from ledger.handlers.context import Context
from ledger.idempotency import CommandRecord, command_uuid, new_command_id, new_record
from ledger.outcomes import parse, raw_field, rejected, replay
from ledger.payments import BACKUP_SUFFIX, Gateway, charge_id_of
from ledger.policy import Catalog, load_catalog
from ledger.recorders import DOMAIN_EVENTS, InlineViews
from ledger.results import AccountView, IfVersion, Result
from ledger.saving import PlainSave
from ledger.schedule import catch_up
from ledger.settlement import TrackingGateway
from ledger.state import AccountState
from ledger.store_errors import is_store_failure
from ledger.stores import StoreSpec, parse_store_url, pinned_env, schema_lock
from ledger.transcodings import register_ledger_transcodings
from ledger.webhook_endpoints import WebhookEndpoint  # noqa: F401  (its topics decode)
from projections.projector import catch_up as project
from projections.queries import account_view
from projections.stores import make_view_recorder

MAX_ATTEMPTS = 8


class _Entangled(Exception):
    """A rejected command whose own events are mixed into a batch's pending state."""


class Ledger(PlainSave, Application[UUID]):  # PlainSave: save without Protocol checks
    name = "ledger"

    def __init__(self, store: StoreSpec, *, clock: Clock, catalog: Catalog,
                 gateway: Gateway, catalog_from_store: bool = False) -> None:
        """`catalog_from_store`: use the versions the store adopted (R-8.7), `catalog`
        only for a store that adopted none; otherwise `catalog` must agree with them
        (`policy_mismatch`)."""
        self.store = store
        self.clock = clock
        self.catalog = catalog
        self.gateway = TrackingGateway(gateway)  # captures no commit recorded are voided
        # who sends commands through this object unless a call names someone else.
        self.principal = f"python:{_user()}"
        self._lock = threading.RLock()
        with schema_lock(store):
            super().__init__(env=pinned_env(store))
            self.views = make_view_recorder(self)
            self.views.create_views()
        if isinstance(self.recorder, InlineViews):
            self.recorder.views = self.views
        self._cache = AccountCache(self.recorder.max_notification_id, self._changes_after)
        self._session = LedgerSession(self)
        # the versions this store adopted, read once here and kept in memory (read
        # again after a save that failed, when another writer may have adopted).
        self._adoption: PolicyAdoption | None = None
        self._adoption_read = False
        self._catalog_refused: LedgerError | None = None  # by another writer's adoption
        try:
            self._read_adoption(check=not catalog_from_store)
            if catalog_from_store:
                self.catalog = store_catalog(self.adopted, catalog)
        except CatalogError:
            pass  # adopted versions that make no valid catalog: the audit reports them
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, url: str | None = None, *, clock: Clock | datetime | str | None = None,
             policy: Any = None, gateway: Gateway | None = None,
             policy_from_store: bool = False) -> Ledger:
        """Open (creating if needed) the store at `url` (default: LEDGER_STORE or
        sqlite:///ledger.db). `clock` fixes "now"; `policy` is a catalog file or data
        (default: LEDGER_POLICY, else the built-in catalog). A catalog that differs from a
        version the store adopted is refused (`policy_mismatch`, R-8.7).
        `policy_from_store`: when no catalog is named, use the versions the store adopted
        (the auditor's tools: the log alone is enough)."""

        store = parse_store_url(url)
        source = policy if policy is not None else os.environ.get("LEDGER_POLICY")
        catalog = load_catalog(source)
        clock = clock if clock is not None else os.environ.get("LEDGER_CLOCK")
        return cls(store, clock=make_clock(clock), catalog=catalog,
                   gateway=gateway or SimulatedGateway(journal_for(store)),
                   catalog_from_store=policy_from_store and source is None)

    def _changes_after(self, after: int, head: int) -> list[tuple[UUID, int]]:
        """The stream and version of each event stored with an id in (after, head]."""
        found = self.recorder.select_notifications(after + 1, head - after, stop=head)
        return [(n.originator_id if isinstance(n.originator_id, UUID)
                 else UUID(str(n.originator_id)), n.originator_version) for n in found]

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # Hand the domain events to the recorder, which folds them into the views.
        processing_event.saved_kwargs[DOMAIN_EVENTS] = processing_event.events
        return super()._record(processing_event)

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

    def submit(self, raw: Any, *, principal: str | None = None,
               if_version: IfVersion | None = None) -> Result:
        """Decide one command (JSON text, dict or model) and record its events.

        Rejections are results too (`ok` false, `error` set): submit does not raise for
        anything the sender can fix. `principal` (R-8.6) defaults to `self.principal`.
        `if_version` (HTTP's If-Match) decides the command only while its account is at
        one of those versions, `version_mismatch` otherwise: checked against the state
        the decision reads, so a concurrent writer that moves the account first makes
        the save a write conflict, decided again and then refused."""
        with self._lock, self._settling():
            return self._submit(raw, principal or self.principal, if_version=if_version)

    def submit_many(self, raws: Iterable[Any], chunk: int = 1000, *,
                    principal: str | None = None) -> list[Result]:
        """The batch path: decide many commands, commit each chunk in one transaction.

        Results are the same as submitting one at a time. A chunk that meets a
        concurrent writer, or a command whose rejection cannot be separated from the
        chunk's state, sends that chunk through the one-at-a-time path instead.
        """
        who = principal or self.principal
        results: list[Result] = []
        batch: list[Any] = []
        for raw in raws:
            batch.append(raw)
            if len(batch) >= chunk:
                results += self._submit_chunk(batch, who)
                batch = []
        if batch:
            results += self._submit_chunk(batch, who)
        return results

    def preview(self, raw: Any, *, principal: str | None = None) -> dict[str, Any]:
        """Decide one command against the current state and record nothing, calling no
        gateway: the result it would have, the events with their data,
        the view after it and the charge it would try (ledger/preview.py)."""
        from ledger.preview import preview

        with self._lock:
            return preview(self._session, raw, principal or self.principal)

    def serialised(self) -> AbstractContextManager[bool]:
        """The lock every write through this object holds; other writers to the same
        store from this process (webhooks' endpoints) take it too."""
        return self._lock

    @contextmanager
    def _settling(self) -> Iterator[None]:
        """R-3.4: when a top-level call ends, void the captures it made that no commit
        recorded and no later decision will claim (ledger/settlement.py)."""
        try:
            yield
        finally:
            self.gateway.settle(self._fresh_state, self._payer_of)

    def _sync_with_log(self) -> None:
        """The account cache caught up with other writers; when one of them adopted a
        policy version (R-8.7), the adoptions are read again and this catalog compared
        with them (`policy_mismatch` if it lacks or differs from one), before anything
        is decided under a version another process has frozen otherwise."""
        if self._cache.sync_with_log(watched=ADOPTIONS_ID) and self._adoption_read:
            try:
                self._read_adoption()
            except LedgerError as exc:
                self._catalog_refused = exc  # and every later decision of this process
        if self._catalog_refused is not None:
            raise self._catalog_refused

    def _payer_of(self, key: str) -> str | None:
        """The account that accepted the command a command's payment key names, if any
        (`cmd:<command id>:<purpose>`, R-3.4)."""
        if not key.startswith("cmd:"):
            return None
        command_id = key.removesuffix(BACKUP_SUFFIX)[4:].rpartition(":")[0]
        record = self._accepted_command(command_id) if command_id else None
        return record.account_id if record is not None else None

    def _fresh_state(self, account_id: str) -> AccountState | None:
        self._cache.forget_ids([account_uuid(account_id)])
        acct = self._load(account_id)
        return acct.state if acct is not None else None

    def _submit_chunk(self, raws: list[Any], principal: str) -> list[Result]:
        with self._lock, self._settling():
            parsed = [parse(raw) for raw in raws]
            # Ids for commands sent without one, fixed before any attempt so that a
            # fallback decides the same gateway keys again.
            fresh = [new_command_id() if isinstance(c, Command) and c.command_id is None else None
                     for c in parsed]
            try:
                return self._decide_chunk(parsed, fresh, principal)
            except (IntegrityError, _Entangled):
                self._cache.drop()
                return [self._submit(c, principal, f) for c, f in zip(parsed, fresh, strict=True)]

    def _decide_chunk(self, parsed: list[Command | Result], fresh: list[str | None],
                      principal: str) -> list[Result]:
        self._sync_with_log()
        opened: dict[str, Account] = {}
        touched: dict[UUID, Account] = {}
        records: list[CommandRecord] = []
        seen: dict[str, tuple[str, Result]] = {}
        results: list[Result] = []

        def load(account_id: str) -> Account | None:
            return opened.get(account_id) or self._load(account_id)

        known = self._known_command_ids([c for c in parsed if isinstance(c, Command)])
        for item, fresh_id in zip(parsed, fresh, strict=True):
            command, command_id, early = self._prepare(item, seen, known, fresh_id)
            if early is not None:
                results.append(early)
                continue
            assert command is not None
            now = self.clock.now()
            at = command.at or now
            ctx = self._context(now, command_id, load, principal, command)
            decision = decide(ctx, command, at, now)
            if decision.error is not None and not decision.payment_failed and (
                    ctx.added_own_events()):
                raise _Entangled
            names = [type(e).__name__ for e in ctx.new_events()]
            for acct in ctx.touched.values():
                touched[acct.id] = acct
                opened.setdefault(acct.state.view.account_id, acct)
            result = self._result(command, command_id, decision, names, ctx)
            if not result.ok and command.command_id is not None:
                # accepted by another writer since the chunk's bulk lookup?
                _, _, again = self._prepare(command, seen)
                if again is not None:
                    if decision.payment_failed:
                        raise _Entangled
                    result = again
            if result.ok and not result.duplicate:
                print_ = fingerprint(command)
                records.append(self._record_of(command, command_id, ctx, names, at, now,
                                               print_))
                seen[command_id] = (print_, result)
            results.append(result)
        accounts = [a for a in touched.values() if a.pending_events]
        try:
            self._save_noted(*accounts, *records)
        except BaseException:
            self._cache.forget(touched.values())
            raise
        self._cache.remember(accounts)
        return results

    def _known_command_ids(self, commands: list[Command]) -> set[str]:
        """Which of the command ids sent in a chunk were accepted before: one query."""
        ids = [c.command_id for c in commands if c.command_id is not None]
        found = self.views.existing_streams([command_uuid(i) for i in ids])
        return {i for i in ids if command_uuid(i) in found}

    def _context(self, now: datetime, command_id: str | None, load: Callable[[str], Any],
                 principal: str, command: Command | None) -> Context:
        """The decision's context, with R-8.6's provenance: a marketplace operation's
        actor is recorded only when given (R-1.4); an account action's is the person."""
        actor = reason = None
        if command is not None:
            reason = command.reason
            actor = (command.actor if command_kind(command.type) == MARKETPLACE_OPERATION
                     else command.acting)
        return Context(self.catalog, self.gateway, now, command_id, load,
                       principal=principal, actor=actor, reason=reason)

    def _prepare(self, parsed: Command | Result, seen: dict[str, tuple[str, Result]],
                 known: set[str] | None = None, fresh_id: str | None = None,
                 ) -> tuple[Command | None, str, Result | None]:
        """Check idempotency: the command, its id, or an early answer."""
        if isinstance(parsed, Result):
            return None, "", parsed
        command = parsed
        command_id = command.command_id or fresh_id or new_command_id()
        if command_id in seen:
            first_print, first = seen[command_id]
            prior: tuple[str, str, list[str], str | None] | None = (
                first_print, first.account_id or "", first.events, first.charge_id)
        elif command.command_id is None or (known is not None and command_id not in known):
            prior = None  # a fresh id, or one the chunk's bulk lookup did not find
        else:
            record = self._accepted_command(command_id)
            prior = ((record.fingerprint, record.account_id, record.events, record.charge_id)
                     if record else None)
        if prior is None:
            return command, command_id, None
        if prior[0] not in fingerprints_of(command):
            return command, command_id, rejected(command_id, command.account_id, LedgerError(
                "idempotency_conflict",
                f"command id {command_id} was already used for a different command",
                rule="R-8.3"))
        return command, command_id, Result(command_id=command_id, account_id=prior[1],
                                           ok=True, duplicate=True, events=prior[2],
                                           charge_id=prior[3])

    def _result(self, command: Command, command_id: str, decision: Decision,
                names: list[str], ctx: Context) -> Result:
        if decision.error is None:
            return Result(command_id=command_id, account_id=command.account_id, ok=True,
                          events=names, charge_id=_charge_id(ctx))
        failed = rejected(command_id, command.account_id, decision.error, names)
        if decision.payment_failed:
            # The declined payment has its charge id too: the key the gateway was asked.
            failed = failed.model_copy(update={"charge_id": _declined_charge_id(ctx)})
        return failed

    def _record_of(self, command: Command, command_id: str, ctx: Context, names: list[str],
                   at: datetime, now: datetime, print_: str | None = None) -> CommandRecord:
        """The accepted command's record (R-8.3), with its charge, principal and body
        (`print_`: the command's fingerprint, when the caller has it already)."""
        return new_record(command_id, print_ or fingerprint(command), command.account_id,
                          names, at, now, charge_id=_charge_id(ctx), principal=ctx.principal,
                          body=command.model_dump(mode="json", exclude_none=True))

    def _submit(self, raw: Any, principal: str, fresh_id: str | None = None,
                if_version: IfVersion | None = None) -> Result:
        parsed = parse(raw)
        if isinstance(parsed, Command) and parsed.command_id is None and fresh_id is None:
            fresh_id = new_command_id()  # one id for every attempt: the same gateway keys
        for attempt in range(MAX_ATTEMPTS):
            try:
                # A conditional command looks its id up first: a retry of an accepted
                # one answers as the first time, whatever the version is now.
                return self._decide_and_save(parsed, principal, fresh_id,
                                             optimistic=attempt == 0 and if_version is None,
                                             if_version=if_version)
            except IntegrityError:
                # Another writer got there first: decide again from fresh state.
                self._cache.drop()
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        if isinstance(parsed, Command):
            ids: tuple[str | None, str | None] = (parsed.command_id or fresh_id,
                                                  parsed.account_id)
        else:
            ids = (raw_field(raw, "command_id"), raw_field(raw, "account_id"))
        return rejected(ids[0], ids[1],
                         LedgerError("write_conflict",
                                     "the account kept changing under concurrent writers; "
                                     "send the command again (same command_id)", rule="R-8.3"))

    def _decide_and_save(self, parsed: Command | Result, principal: str,
                         fresh_id: str | None, optimistic: bool = False,
                         if_version: IfVersion | None = None) -> Result:
        """Decide and record one command. `optimistic` skips looking the command id up
        first: an accepted repeat then fails on its command record's stream (the store
        refuses a second first event), a refused one is looked up below, and either way
        the caller's retry looks it up."""
        command, command_id, early = self._prepare(parsed, {},
                                                   set() if optimistic else None, fresh_id)
        if early is not None:
            return early
        assert command is not None
        self._sync_with_log()
        if if_version is not None:
            refusal = self._version_refusal(command, command_id, if_version)
            if refusal is not None:
                return refusal
        now = self.clock.now()
        at = command.at or now
        ctx = self._context(now, command_id, self._load, principal, command)
        try:
            decision = decide(ctx, command, at, now)
        except BaseException:
            self._cache.forget(ctx.touched.values())
            raise
        if decision.error is not None and command.command_id is not None:
            # another writer may have accepted this very command after our lookup
            # and before we read the account; its events and record commit together.
            _, _, again = self._prepare(command, {})
            if again is not None:
                self._cache.forget(ctx.touched.values())
                return again
        if decision.error is not None and not decision.payment_failed:
            names: list[str] = []
            if ctx.new_events() and not ctx.added_own_events():
                # Only scheduled facts were decided, on whichever accounts the decision
                # read (an owner's renewals, say): facts of time, recorded as they are
                # as the batch path records them.
                names = self._save(ctx, None)
            elif ctx.new_events():
                # Drop what the command decided; only the scheduled facts stay.
                self._cache.forget(ctx.touched.values())
                if decision.time_checked:
                    names = self._record_scheduled_only(list(ctx.touched), at, now,
                                                        principal)
            return rejected(command_id, command.account_id, decision.error, names)
        names = [type(e).__name__ for e in ctx.new_events()]
        record = None
        if decision.error is None:
            record = self._record_of(command, command_id, ctx, names, at, now)
        # The result before the save, which hands the pending events to the store: a
        # declined payment's charge id is read from its PaymentFailed.
        result = self._result(command, command_id, decision, names, ctx)
        self._save(ctx, record)
        return result

    def _version_refusal(self, command: Command, command_id: str,
                         if_version: IfVersion) -> Result | None:
        """`version_mismatch` unless the account is at a version `if_version` names. An
        account that does not exist matches no version: opening it is refused, any
        other command is left to say `unknown_account` itself."""
        acct = self._load(command.account_id)
        if acct is None and command.type != "open_account":
            return None
        version = acct.version if acct is not None else None
        if if_version.holds(version):
            return None
        now = "does not exist" if version is None else f"is at version {version}"
        return rejected(command_id, command.account_id, LedgerError(
            "version_mismatch", f"the account {now}, not {if_version.shown}", rule="R-8.3"))

    def _record_scheduled_only(self, account_ids: list[str], at: datetime, now: datetime,
                               principal: str) -> list[str]:
        """R-8.4: a rejected command records nothing of its own, but the scheduled facts
        that fell due before it, on the accounts it read, are facts of time. Decide them
        again from fresh state."""
        ctx = self._context(now, None, self._load, principal, None)
        for account_id in account_ids:
            acct = self._load(account_id)
            if acct is not None:
                ctx.touch(acct)
                catch_up(ctx, acct, at)
        return self._save(ctx, None)

    def _save(self, ctx: Context, record: CommandRecord | None) -> list[str]:
        names = [type(e).__name__ for e in ctx.new_events()]
        accounts = list(ctx.touched.values())
        if names or record is not None:
            try:
                self._save_noted(*accounts, *([record] if record is not None else []))
            except BaseException:
                self._cache.forget(accounts)
                raise
            self._cache.remember(accounts)
        return names

    # -- loading -------------------------------------------------------------------

    def _load(self, account_id: str) -> Account | None:
        return self._load_uuid(account_uuid(account_id))

    def _save_noted(self, *aggregates: Account | CommandRecord) -> None:
        """Save in one transaction, and tell the cache where the log now ends. The
        policy versions these events are the first decided under are adopted in the same
        transaction (R-8.7)."""
        # The captures these events record (a PaymentFailed's key records that nothing
        # was captured under it: a capture found there anyway is settled, R-3.4).
        keys = [key for a in aggregates if isinstance(a, Account)
                for e in a.pending_events if (key := getattr(e, "gateway_key", None))
                and not isinstance(e, Account.PaymentFailed)]
        adoption = self._adopting(aggregates)
        try:
            recordings = self.save(*(() if adoption is None else (adoption,)), *aggregates)
        except BaseException:
            if adoption is not None:
                # Not recorded (or not known to be): read the adoptions again before the
                # next save. A concurrent writer that adopted first made this a write
                # conflict, retried by the caller like any other.
                self._adoption, self._adoption_read = None, False
            raise
        self._adoption = adoption or self._adoption
        self._cache.note_saved(r.notification.id for r in recordings)
        self.gateway.note_committed(keys)

    # -- adopted policy versions (R-8.7) -------------------------------------------

    def _read_adoption(self, check: bool = True) -> None:
        try:
            self._adoption = cast(PolicyAdoption, self.repository.get(ADOPTIONS_ID))
        except AggregateNotFoundError:
            self._adoption = None
        self._adoption_read = True
        if check:
            check_catalog(self.catalog, self.adopted, lambda: self.decided_through)

    @property
    def adopted(self) -> dict[str, dict[str, Any]]:
        """The versions this store adopted: name -> content (R-8.7)."""
        if not self._adoption_read:
            self._read_adoption()
        return self._adoption.adopted if self._adoption is not None else {}

    @property
    def decided_through(self) -> date | None:
        """The latest date the store decided anything for (R-8.7): its accounts' latest
        fact, or the latest decision that adopted a version (whichever is later)."""
        if not self._adoption_read:
            self._read_adoption()
        dates = [d for d in (self._adoption.decided_through if self._adoption else None,
                             self.views.latest_fact_day()) if d is not None]
        return max(dates) if dates else None

    def adopted_versions(self) -> list[dict[str, Any]]:
        """Each adopted version's name, start and SHA-256, in the order adopted."""
        held = self.adopted  # read when not known
        log = self._adoption
        return [{"name": name, "effective_from": content.get("effective_from"),
                 "sha256": log.sha256[name]} for name, content in held.items()
                ] if log is not None else []

    def _adopting(self, aggregates: Iterable[Account | CommandRecord]
                  ) -> PolicyAdoption | None:
        """The adoption log with the versions these pending events are the first decided
        under, or None when every one is adopted already (R-8.7). An event is decided
        under the version in force on its own date (R-0), and an event that names the
        version it used (`policy_version`) under that one. Adopting also freezes every
        version passed over between the first version used and the latest date decided
        (a version whose months saw no event is still part of the decided past), and a
        store written before adoptions existed adopts, on its first adoption, every
        version up to that date: its history was decided without records of its own."""
        events: list[Any] = [e for a in aggregates if isinstance(a, Account)
                             for e in a.pending_events]
        if not events:
            return None
        held = self.adopted
        used = {name for e in events
                if (name := getattr(e, "policy_version", None)) is not None}
        for day in {e.at.date() for e in events}:
            with contextlib.suppress(LedgerError):  # refused before it got here
                used.add(self.catalog.version_on(day).name)
        if used <= held.keys():
            return None  # the common case: nothing new, and no query
        at: datetime = max(e.at for e in events)
        latest = self.views.latest_fact_day()
        through = max(at.date(), latest) if latest is not None else at.date()
        legacy = self._adoption is None and self.views.holds_accounts()
        if not legacy and held and latest is not None:
            _refuse_adopting_into_the_decided_past(self.catalog, held, latest)
        starts = [v.effective_from for v in self.catalog.versions
                  if v.name in used or v.name in held]
        first = date.min if legacy else min(starts)
        due = [v for v in self.catalog.versions
               if v.name not in held and first <= v.effective_from <= through]
        return adopt(self._adoption, due, at, max(e.timestamp for e in events)) if due else None

    def _load_uuid(self, uid: UUID) -> Account | None:
        acct = self._cache.get(uid)
        if acct is not None:
            return acct
        try:
            acct = cast(Account, self.repository.get(uid, projector_func=replay))
        except AggregateNotFoundError:
            return None
        except Exception as exc:
            if isinstance(exc, LedgerError) or is_store_failure(exc):
                raise
            # A stream the ledger wrote always replays: one that does not was altered.
            raise StoredEventsUnreadable(self._account_name(uid), exc) from exc
        self._cache.remember([acct])
        return acct

    def _account_name(self, uid: UUID) -> str:
        """The account's id as the views know it, else its stream id."""
        try:
            _, row = self.views.lookup(uid, None, None)
        except Exception:  # only for a message about a damaged store: any failure
            return uid.hex
        return row.view.account_id if row is not None else uid.hex

    def prior_answer(self, raw: Any) -> Result | None:
        """R-8.3 without deciding anything: the answer a command whose id was already
        accepted gets (the first result, or `idempotency_conflict` for other content),
        else None (a new id, no id, or input that is not a valid command)."""
        parsed = parse(raw)
        if isinstance(parsed, Result) or parsed.command_id is None:
            return None
        with self._lock:
            _, _, early = self._prepare(parsed, {})
        return early

    def was_accepted(self, command_id: str) -> bool:
        """Whether a command with this id was accepted before (R-8.3)."""
        return self._accepted_command(command_id) is not None

    def _accepted_command(self, command_id: str) -> CommandRecord | None:
        try:
            record: CommandRecord = self.repository.get(command_uuid(command_id))
        except AggregateNotFoundError:
            return None
        return record

    # -- queries -------------------------------------------------------------------

    def refresh_views(self, progress: Callable[[int], None] | None = None) -> int:
        return project(self.views, self.recorder, self.mapper, progress)

    def rebuild_views(self, progress: Callable[[int], None] | None = None) -> int:
        """Every view folded again from the log, while writers run (projections/rebuild.py)."""
        from projections.rebuild import rebuild_views

        return rebuild_views(self, progress)

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
            "principal": e.principal,
            "actor": e.actor,
            "reason": e.command_reason,
            "data": shown_data(e),
        } for e in events]

    def run_billing(self, through: datetime | str,
                    progress: Callable[[int], None] | None = None, *,
                    principal: str | None = None) -> dict[str, Any]:
        """Every scheduled fact due through `through`, for all accounts, recorded under
        `principal` (who ran it, R-8.6; the ledger's own by default)."""
        with self._lock, self._settling():
            return billing_run(self._session, parse_instant(through), progress, principal)


class LedgerSession:
    """The ledger as its billing run and its preview see it (ledger/ports.py): the
    only way they reach its accounts, its memory of them and its save."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @property
    def catalog(self) -> Catalog:
        return self._ledger.catalog

    def now(self) -> datetime:
        return self._ledger.clock.now()

    def sync(self) -> None:
        self._ledger._sync_with_log()

    def load(self, uid: UUID) -> Account | None:
        return self._ledger._load_uuid(uid)

    def preload(self, uids: Sequence[UUID]) -> None:
        led = self._ledger
        preload(led._cache, led.recorder, led.mapper, uids)

    def save(self, accounts: Sequence[Account]) -> None:
        try:
            self._ledger._save_noted(*accounts)
        except BaseException:
            self._ledger._cache.forget(accounts)
            raise

    def forget(self, accounts: Iterable[Account]) -> None:
        self._ledger._cache.forget(accounts)

    def drop(self) -> None:
        self._ledger._cache.drop()

    def context(self, now: datetime, *, principal: str | None = None,
                command_id: str | None = None, command: Command | None = None) -> Context:
        led = self._ledger
        return led._context(now, command_id, led._load, principal or led.principal, command)

    def idempotent_answer(self, command: Command) -> tuple[str, Result | None]:
        _, command_id, early = self._ledger._prepare(command, {})
        return command_id, early

    def result(self, command: Command, command_id: str, decision: Decision,
               names: list[str], ctx: Context) -> Result:
        return self._ledger._result(command, command_id, decision, names, ctx)

    def refresh_views(self) -> None:
        self._ledger.refresh_views()

    def due_accounts(self, through: date, after: str, limit: int) -> list[str]:
        return self._ledger.views.due_accounts(through, after, limit)

    def captures(self) -> int:
        return self._ledger.gateway.committed_count


def _refuse_adopting_into_the_decided_past(catalog: Catalog, held: dict[str, Any],
                                           latest: date) -> None:
    """R-8.7 across processes: a version not adopted yet that starts after the first
    adopted one and on or before the store's latest fact would take over dates another
    process decided without it (its catalog lacked the version); replaying them would
    now pick it. Refused as on open (`policy_mismatch`), before anything is recorded."""
    inside = inside_decided_past(catalog, held, latest)
    if inside:
        raise mismatch(inside)


def _charge_id(ctx: Context) -> str | None:
    return ctx.charge_ids[-1] if ctx.charge_ids else None


def _declined_charge_id(ctx: Context) -> str | None:
    keys = [e.gateway_key for e in ctx.new_events()
            if type(e).__name__ == "PaymentFailed" and e.command_id is not None]
    return charge_id_of(keys[-1]) if keys and keys[-1] else None


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (containers without a passwd entry)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


__all__ = ["Ledger", "OperationalError"]
