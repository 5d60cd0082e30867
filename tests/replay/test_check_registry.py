"""Every event type the code defines is folded by the audit's reference and either
checked or exempt with a reason (replay_tools/checks/registry.py); nothing is skipped
silently."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from ledger.account import Account
from replay_tools import reference
from replay_tools.checks import registry
from replay_tools.checks.context import Check
from replay_tools.findings import Findings, Reporter
from replay_tools.stream import Stream

PACKAGES = ("ledger", "service", "webhooks", "projections")


def _import_everything() -> None:
    for name in PACKAGES:
        try:
            package = importlib.import_module(name)
        except ImportError:
            continue
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            try:
                importlib.import_module(info.name)
            except Exception:  # an optional extra missing: its events cannot be stored
                continue


def _event_types() -> list[type[Any]]:
    _import_everything()
    found: list[type[Any]] = []
    todo: list[type[Any]] = [Aggregate.Event]
    while todo:
        cls = todo.pop()
        todo.extend(c for c in cls.__subclasses__() if c not in found)
        topic = str(vars(cls).get("TOPIC", ""))
        if topic.startswith("ledger/") and not topic.endswith(".Event"):
            found.append(cls)
    return found


def type_name(cls: type[Any]) -> str:
    return str(cls.TOPIC).rpartition("/")[2]


def account_types() -> list[type[Any]]:
    return [c for c in _event_types() if issubclass(c, Account.Event)]


def test_the_walk_finds_the_account_events() -> None:
    names = {type_name(c) for c in account_types()}
    assert {"AccountOpened", "ConnectsSpent", "TeamLeft", "CycleRenewed"} <= names


@pytest.mark.parametrize("cls", account_types(), ids=type_name)
def test_every_account_event_type_is_folded_and_checked_or_exempt(cls: type[Any]) -> None:
    name = type_name(cls)
    assert name in reference.FOLDS, f"{name}: add its fold to replay_tools/reference.py"
    assert name in registry.known_names(), (
        f"{name}: add a check or an EXEMPT entry with a reason to checks/registry.py")


def test_exemptions_give_a_reason_and_name_real_types() -> None:
    names = {type_name(c) for c in account_types()}
    for name, reason in registry.EXEMPT.items():
        assert name in names and len(reason) > 10


def test_every_other_stream_event_type_is_listed() -> None:
    others = [c for c in _event_types() if not issubclass(c, Account.Event)
              and type_name(c) != "CommandAccepted"]
    unlisted = [c.TOPIC for c in others if c.TOPIC not in registry.OTHER_STREAMS]
    assert unlisted == []


class _Event:
    TOPIC = "ledger/SomethingNew"
    at = None
    command_id = "c-1"


def test_an_unknown_type_recorded_by_a_command_is_a_finding() -> None:
    findings = Findings()
    c = Check(Stream(reference.account_stream("fl-1")), _Event(), None,  # type: ignore[arg-type]
              Reporter(findings, "fl-1", 3, 9))
    registry.check_command_event(c)
    assert [f.message for f in findings.items] == [
        "SomethingNew is an event type the audit neither checks nor exempts"]
