"""An event-sourced subscription ledger: memberships, billing cycles, Connects, earnings.

The public API: `Ledger.open(url)`, `submit`, `account`, `history`, `run_billing`.
"""

from ledger.application import Ledger
from ledger.commands import Command, parse_command
from ledger.errors import LedgerError
from ledger.results import AccountView, ErrorInfo, Result

__all__ = ["AccountView", "Command", "ErrorInfo", "Ledger", "LedgerError", "Result",
           "parse_command"]
