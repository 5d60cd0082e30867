"""The library's `Application.save` without its runtime-Protocol `isinstance` checks.

eventsourcing's `ProcessingEvent.collect_events` asks of every object saved whether it
is a `DomainEventProtocol` and then a `CollectEventsProtocol`: `runtime_checkable`
protocols, whose `isinstance` looks up each of their members on the object (tens of
microseconds per aggregate; two aggregates per command). The ledger saves its own
aggregates, all `eventsourcing.domain.BaseAggregate`s: those are collected here with a
plain class check; anything else takes the library's own path. The rest is the
library's `save` as it stands in eventsourcing 9.5 (record, snapshots, notify).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import Recording


class PlainSave(Application[UUID]):
    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, BaseAggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            elif obj is not None:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # deprecated in the library, still called
        return recordings
