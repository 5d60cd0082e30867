"""Previews: what a command would do now, recording nothing (`submit --preview`).

The command is decided exactly as `submit` would decide it, against the current state
with its catch-up of scheduled facts (R-8.2), but with a gateway that approves every
charge and moves no money, and nothing is saved: not the command's events, not the
scheduled facts, not a command record. The accounts it touched are dropped from the
ledger's memory afterwards, so the next decision reads them from the store again.
"""

from __future__ import annotations

from typing import Any

from ledger.account import account_uuid, shown_data
from ledger.commands import Command
from ledger.deciding import decide
from ledger.gateway import ApprovingGateway
from ledger.outcomes import parse
from ledger.ports import PreviewSession
from ledger.results import Result, to_jsonable
from projections.render import render_view

NOTE = ("nothing was recorded and no gateway was called; a charge to a card or PayPal "
        "is assumed approved")
CHARGE_EVENTS = ("MembershipCharged", "ConnectsPurchased")


def preview(app: PreviewSession, raw: Any, principal: str) -> dict[str, Any]:
    """What `raw` would do now; `app` is the session the Ledger hands (ledger/ports.py)."""
    command = parse(raw)
    if isinstance(command, Result):
        return _answer(command, [], None, None)
    assert isinstance(command, Command)
    command_id, early = app.idempotent_answer(command)
    if early is not None:
        # An id already used: the command would not be decided again, so nothing would
        # be recorded (no events); the result is the first one and the view the
        # account's as it stands.
        answer = _answer(early, [], _standing_view(app, early), None)
        if early.duplicate:
            answer["recorded_events"] = list(early.events)  # what the first one recorded
        return answer
    app.sync()
    now = app.now()
    at = command.at or now
    ctx = app.context(now, principal=principal, command_id=command_id, command=command)
    ctx.gateway = ApprovingGateway()
    try:
        decision = decide(ctx, command, at, now)
        events = ctx.new_events()
        if decision.error is not None and not decision.payment_failed:
            events = [e for e in events if e.command_id is None]  # only the facts of time
        acct = ctx.touched.get(command.account_id)
        view = None
        if acct is not None and decision.error is None:
            view = render_view(acct.state.view, acct.version, at, None, app.catalog).to_json()
        result = app.result(command, command_id, decision,
                             [type(e).__name__ for e in events], ctx)
        charge = next((_charge(e) for e in events
                       if type(e).__name__ in CHARGE_EVENTS and e.command_id is not None), None)
        rows = [{"name": type(e).__name__, "version": e.originator_version, "at": e.at,
                 "data": shown_data(e)} for e in events]
        return _answer(result, rows, view, charge)
    finally:
        app.forget(ctx.touched.values())  # their state went beyond the store


def _standing_view(app: PreviewSession, result: Result) -> dict[str, Any] | None:
    if not result.duplicate or not result.account_id:
        return None
    acct = app.load(account_uuid(result.account_id))
    if acct is None:
        return None
    return render_view(acct.state.view, acct.version, app.now(), None,
                       app.catalog).to_json()


def _charge(event: Any) -> dict[str, Any]:
    return {"amount": event.amount, "source": event.source, "method": event.method_id,
            "method_id": event.method_id,
            "charge_id": event.charge_id,
            "purpose": getattr(event, "purpose", "purchase")}


def _answer(result: Result, events: list[dict[str, Any]], view: dict[str, Any] | None,
            charge: dict[str, Any] | None) -> dict[str, Any]:
    answer = result.to_json()
    answer.update(preview=True, events=events, view=view, charge=charge, note=NOTE)
    return dict(to_jsonable(answer))
