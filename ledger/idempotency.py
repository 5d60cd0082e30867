"""Command ids (R-8.3): an accepted command's id, content fingerprint and result are
stored as a one-event stream saved in the same transaction as the command's events,
so idempotency survives restarts and two racing copies of one command conflict in
the store instead of both applying."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

COMMAND_NAMESPACE = uuid5(NAMESPACE_URL, "urn:subscription-ledger:command")


def new_command_id() -> str:
    """An id for a command sent without one: base32 letters and digits, so that no long
    run of digits can pass for a card number when the id is sent back (R-2.2)."""
    return "c" + base64.b32encode(secrets.token_bytes(15)).decode().lower()


@lru_cache(maxsize=4_096)
def command_uuid(command_id: str) -> UUID:
    # Asked about three times per command (lookup, record, result): remembered briefly.
    return uuid5(COMMAND_NAMESPACE, command_id)


class CommandRecord(Aggregate):
    TOPIC = "ledger/CommandRecord"

    def __init__(self) -> None:
        self.fingerprint = ""
        self.account_id = ""
        self.events: list[str] = []
        self.charge_id: str | None = None
        self.body: dict[str, Any] | None = None

    class Event(Aggregate.Event):
        TOPIC = "ledger/CommandRecord.Event"

    class CommandAccepted(Event, Aggregate.Created):
        TOPIC = "ledger/CommandAccepted"
        command_id: str
        fingerprint: str
        account_id: str
        events: list[str]
        at: datetime
        prev_hash: str
        # Second round (records stored before read None): the charge it made,
        # who sent it and the command itself, for what-if replays.
        charge_id: str | None
        principal: str | None
        body: dict[str, Any] | None

        def __getattr__(self, name: str) -> Any:
            if name in ("charge_id", "principal", "body"):
                return None
            raise AttributeError(name)

        def apply(self, aggregate: Any) -> None:
            aggregate.fingerprint = self.fingerprint
            aggregate.account_id = self.account_id
            aggregate.events = list(self.events)
            aggregate.charge_id = self.charge_id
            aggregate.body = self.body


def new_record(command_id: str, fingerprint: str, account_id: str, events: list[str],
               at: datetime, recorded_at: datetime, *, charge_id: str | None = None,
               principal: str | None = None,
               body: dict[str, Any] | None = None) -> CommandRecord:
    record: CommandRecord = CommandRecord._create(
        CommandRecord.CommandAccepted, id=command_uuid(command_id), timestamp=recorded_at,
        command_id=command_id, fingerprint=fingerprint, account_id=account_id,
        events=events, at=at, prev_hash="", charge_id=charge_id, principal=principal,
        body=body)
    return record
