"""Kept so that `from tests.helpers import ...` still works: `ledger_cli` and
`replay_cli` live in tests/helpers.py, with the other helpers the suites share."""

from tests.helpers import ledger_cli, replay_cli  # noqa: F401
