"""Kept so that `from tests.helpers import ...` still works: the steps live in
tests/helpers.py, with the other helpers the suites share."""

from tests.helpers import (  # noqa: F401
    accept,
    add_card,
    assert_rejected,
    open_account,
    refuse,
    submit,
    submit_ok,
)
