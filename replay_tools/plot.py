"""`ledger-replay plot`: Connects and available earnings of one account over time
(matplotlib, imported only here and only when asked for)."""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from replay_tools.history import account_events
from replay_tools.reference import RefState as AccountState
from replay_tools.stream import fold

if TYPE_CHECKING:
    from ledger.application import Ledger


class MatplotlibMissing(Exception):
    """The plot extra is not installed."""


def _pyplot() -> Any:
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        raise MatplotlibMissing("plot needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def plot_account(app: Ledger, account_id: str, out: str) -> int:
    """Draw the account's Connects and available earnings over time; returns the points."""
    plt = _pyplot()
    state = AccountState()
    times: list[datetime] = []
    held: list[int] = []
    available: list[float] = []
    for event in account_events(app, account_id):
        fold(state, event)
        if times and times[-1] == event.at:  # one point per instant: its final state
            times.pop(), held.pop(), available.pop()
        times.append(event.at)
        held.append(state.view.connects)
        available.append(float(state.view.earnings_available))
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.step(times, held, where="post", color="tab:blue", label="Connects")
    ax.set_ylabel("Connects")
    money = ax.twinx()
    money.step(times, available, where="post", color="tab:green", label="available (USD)")
    money.set_ylabel("available earnings (USD)")
    ax.set_title(f"{account_id}: Connects and available earnings")
    fig.legend(loc="upper right")
    fig.autofmt_xdate()
    fig.savefig(out)
    plt.close(fig)
    return len(times)
