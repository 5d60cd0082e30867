"""The support console (/console): pages over the same queries as the HTTP API."""

from service.console.routes import make_console_router
from service.console.sessions import ConsoleKey, KeyDirectory, Signer

__all__ = ["ConsoleKey", "KeyDirectory", "Signer", "make_console_router"]
