"""Integrity of each stream (R-8.1): versions 1, 2, 3..., the per-account hash chain,
nothing after AccountClosed, the stream id that matches the account (or command) id."""

from __future__ import annotations

from typing import Any

from replay_tools.findings import Reporter
from replay_tools.log import Entry, digest
from replay_tools.reference import account_stream, command_stream, event_name
from replay_tools.stream import Stream


def is_account_event(event: Any) -> bool:
    """An account stream's event: an account event topic (the command records' aside)."""
    return event_name(event) != "CommandAccepted" and hasattr(event, "prev_hash") \
        and hasattr(event, "at")


def check_account_row(s: Stream, entry: Entry, r: Reporter) -> str | None:
    """Check one row of an account stream; returns the event's digest (None: undecodable)."""
    _check_version(s, entry, r)
    event = entry.event
    if event is None:
        r.fail("integrity", "R-8.1", f"the stored event ({entry.topic}) does not decode: "
               f"{entry.error}")
        s.last_digest = None
        s.tainted = True
        return None
    if not is_account_event(event):
        r.fail("integrity", "R-8.1", f"{entry.topic} is not an account event")
        s.last_digest = None
        s.tainted = True
        return None
    event_hash = digest(event)
    _check_chain(s, entry, event, r)
    _check_identity(s, entry, event, r)
    if s.closed_at is not None:
        r.fail("integrity", "R-1.3",
               f"{event_name(event)} recorded after AccountClosed (v{s.closed_at})")
    if event_name(event) == "AccountClosed" and s.closed_at is None:
        s.closed_at = entry.version
    s.last_digest = event_hash
    return event_hash


def _check_version(s: Stream, entry: Entry, r: Reporter) -> None:
    expected = s.version + 1
    if entry.version != expected:
        if entry.version > expected:
            gap = f"v{expected}" + (f"..v{entry.version - 1}" if entry.version - 1 > expected
                                    else "")
            what = f"{gap} missing (deleted?)"
        else:
            what = "a version repeated or out of order"
        r.fail("integrity", "R-8.1", f"v{entry.version} follows v{s.version}: {what}",
               expected=expected, found=entry.version,
               version=expected if entry.version > expected else None)
        s.tainted = True
        s.last_digest = None
    s.version = max(s.version, entry.version)


def _check_chain(s: Stream, entry: Entry, event: Any, r: Reporter) -> None:
    recorded = event.prev_hash
    if s.last_digest is None:
        return  # the previous event is missing or unreadable: already reported
    if recorded != s.last_digest:
        if entry.version == 1:
            r.fail("integrity", "R-8.1", "the first event's prev_hash is not empty",
                   expected="", found=str(recorded)[:16])
        else:
            r.fail("integrity", "R-8.1",
                   f"v{entry.version - 1} does not hash to the prev_hash recorded by "
                   f"v{entry.version}: v{entry.version - 1} was changed (or v{entry.version}'s "
                   "prev_hash)", expected=str(recorded)[:16], found=s.last_digest[:16],
                   version=entry.version - 1)


def _check_identity(s: Stream, entry: Entry, event: Any, r: Reporter) -> None:
    if event_name(event) == "AccountOpened":
        if entry.version != 1:
            r.fail("integrity", "R-8.1", "AccountOpened is not the stream's first event")
        elif account_stream(event.account_id) != entry.originator_id:
            r.fail("integrity", "R-8.1",
                   f"stream {entry.originator_id.hex} holds AccountOpened of "
                   f"{event.account_id}, whose stream id is {account_stream(event.account_id).hex}")
        elif not s.account_id:
            s.account_id = event.account_id
            r.account = s.account_id
    elif entry.version == 1:
        r.fail("integrity", "R-8.1",
               f"the stream's first event is {event_name(event)}, not AccountOpened")


def check_command_row(entry: Entry, r: Reporter) -> str | None:
    """A CommandRecord stream holds one CommandAccepted, version 1, prev_hash empty (R-8.3)."""
    event = entry.event
    if event is None:
        r.fail("integrity", "R-8.1", f"the stored event ({entry.topic}) does not decode: "
               f"{entry.error}")
        return None
    event_hash = digest(event)
    if event_name(event) != "CommandAccepted":
        r.fail("integrity", "R-8.1", f"{entry.topic} in a command record stream")
        return event_hash
    r.account = f"command:{event.command_id}"
    if entry.version != 1:
        r.fail("integrity", "R-8.3", "a command record has more than one event",
               expected=1, found=entry.version)
    if event.prev_hash != "":
        r.fail("integrity", "R-8.1", "a command record's prev_hash is not empty",
               expected="", found=str(event.prev_hash)[:16])
    if command_stream(event.command_id) != entry.originator_id:
        r.fail("integrity", "R-8.1",
               f"stream {entry.originator_id.hex} holds the record of command "
               f"{event.command_id}, whose stream id is {command_stream(event.command_id).hex}")
    return event_hash
