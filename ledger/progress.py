"""A small progress bar on standard error (only when it is a terminal, or forced)."""

from __future__ import annotations

import os
import sys
import time


class ProgressBar:
    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.enabled = sys.stderr.isatty() or os.environ.get("LEDGER_PROGRESS") == "1"

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self.last_draw > 0.2 or self.done == self.total):
            self.last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self.started, 1e-9)
        if self.total:
            filled = int(30 * self.done / self.total)
            bar = "#" * filled + "-" * (30 - filled)
            text = f"\r{self.label} [{bar}] {self.done}/{self.total} ({rate:,.0f}/s)"
        else:
            text = f"\r{self.label} {self.done:,} ({rate:,.0f}/s)"
        self._write(text)

    def _write(self, text: str) -> None:
        """A closed or broken standard error turns the bar off; it never stops the work
        it reports on (a billing run mid-transaction, say)."""
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError):
            self.enabled = False

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self._write("\n")
            self.enabled = False  # closed: a second close prints nothing
