"""A random but reproducible history for the audit: many kinds of accounts over the
v2016 -> v2019 change, with upgrades, promos, downgrades, suspensions, declines,
purchases, proposals, cancelled jobs, earnings, teams and closings, and billing runs.

Also a script: `python -m tests.replay.scenario PATH ACCOUNTS [MONTHS]` writes a store.
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ledger import Ledger
from ledger.commands import ACCOUNT_ACTION, command_kind
from tests.helpers import TEST_CLOCK

CLOCK = TEST_CLOCK


class Simulation:
    def __init__(self, ledger: Ledger, seed: int = 7) -> None:
        self.ledger = ledger
        self.rng = random.Random(seed)
        self.people: list[str] = []
        self.accounts: dict[str, str] = {}  # id -> kind
        self.owners: dict[str, str] = {}  # agency or company id -> its owner
        self.methods: dict[str, list[str]] = {}
        self.pending_refs: dict[str, list[str]] = {}
        self.proposals: dict[str, list[tuple[str, str]]] = {}
        self.seq = 0
        self.results: list[Any] = []

    def _id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}-{self.seq}"

    def submit(self, command: dict[str, Any]) -> Any:
        owner = self.owners.get(command["account_id"])
        if owner is not None and "actor" not in command and (
                command_kind(command["type"]) == ACCOUNT_ACTION):
            command = {**command, "actor": owner}  # the owner is the person acting
        result = self.ledger.submit(command)
        self.results.append(result)
        return result

    def run(self, accounts: int, start: date, days: int) -> None:
        rng = self.rng
        opened_per_day = max(1, accounts // max(days // 3, 1))
        for offset in range(days):
            day = start + timedelta(days=offset)
            if offset % 9 == 0:
                self.ledger.run_billing(through=day.isoformat())
            todays: list[tuple[str, str | None]] = []
            if len(self.accounts) < accounts:
                todays += [("open", None)] * min(opened_per_day, accounts - len(self.accounts))
            live = list(self.accounts)
            todays += [("act", rng.choice(live)) for _ in range(len(live) // 6)] if live else []
            for n, (what, account) in enumerate(todays):
                at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                    hours=1 + n * 20 // max(len(todays), 1), minutes=rng.randrange(60))
                stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
                if what == "open":
                    self.open(stamp)
                else:
                    assert account is not None
                    self.act(account, stamp)

    def open(self, at: str) -> None:
        rng = self.rng
        kind = rng.choices(["freelancer", "agency", "company", "member"], [60, 12, 14, 14])[0]
        account = self._id(kind[:2])
        owners = [p for p in self.people if self.accounts.get(p) in
                  (("freelancer",) if kind == "agency" else ("freelancer", "member"))]
        command: dict[str, Any] = {"type": "open_account", "account_id": account, "kind": kind,
                                   "at": at}
        if kind in ("agency", "company"):
            if not owners:
                return
            command["owner_id"] = rng.choice(owners)
        if self.submit(command).ok:
            self.accounts[account] = kind
            if "owner_id" in command:
                self.owners[account] = command["owner_id"]
            if kind in ("freelancer", "member"):
                self.people.append(account)
            if kind != "member" and rng.random() < 0.85:
                self.add_method(account, at)

    def add_method(self, account: str, at: str) -> None:
        rng = self.rng
        method_id = self._id("m")
        if rng.random() < 0.2:
            email = ("decline" if rng.random() < 0.3 else "ok") + f"{method_id}@example.com"
            fields: dict[str, Any] = {"method": "paypal", "email": email, "verified": True}
        else:
            token = ("tok_decline_" if rng.random() < 0.12 else "tok_ok_") + method_id
            fields = {"method": "card", "brand": rng.choice(["visa", "mastercard", "amex"]),
                      "last4": f"{rng.randrange(10000):04d}", "exp_month": 12,
                      "exp_year": 2032, "token": token, "prepaid": rng.random() < 0.1}
        r = self.submit({"type": "add_billing_method", "account_id": account, "at": at,
                         "method_id": method_id, **fields})
        if r.ok:
            self.methods.setdefault(account, []).append(method_id)

    def act(self, account: str, at: str) -> None:
        rng = self.rng
        base = {"account_id": account, "at": at}
        methods = self.methods.get(account, [])
        choice = rng.choices(
            ["method", "primary", "remove", "suspend_m", "reinstate_m", "upgrade", "downgrade",
             "promo", "suspend", "reinstate", "pending", "release", "credit", "withdraw",
             "buy", "propose", "withdraw_p", "cancel_job", "contract", "job", "invoice",
             "team", "close"],
            [4, 3, 2, 2, 2, 10, 4, 2, 2, 3, 8, 6, 5, 5, 8, 20, 3, 4, 3, 2, 2, 3, 1])[0]
        c: dict[str, Any] = dict(base)
        if choice == "method":
            self.add_method(account, at)
            return
        if choice in ("primary", "remove", "suspend_m", "reinstate_m"):
            if not methods:
                return
            c["type"] = {"primary": "make_primary_method", "remove": "remove_billing_method",
                         "suspend_m": "suspend_billing_method",
                         "reinstate_m": "reinstate_billing_method"}[choice]
            c["method_id"] = rng.choice(methods)
        elif choice == "upgrade":
            c["type"] = "upgrade_plan"
            if rng.random() < 0.2:
                c["promo_code"] = rng.choice(["PLUSMONTH", "HALFOFF3"])
        elif choice == "downgrade":
            c["type"] = "downgrade_plan"
        elif choice == "promo":
            c.update(type="redeem_promo_code", code=rng.choice(["PLUSMONTH", "HALFOFF3"]))
        elif choice in ("suspend", "reinstate"):
            c["type"] = f"{choice}_account"
        elif choice == "pending":
            ref = self._id("e")
            c.update(type="record_pending_earnings", reference=ref,
                     amount=f"{rng.randrange(5, 400)}.{rng.randrange(100):02d}")
            if self.submit(c).ok:
                self.pending_refs.setdefault(account, []).append(ref)
            return
        elif choice == "release":
            refs = self.pending_refs.get(account, [])
            if not refs:
                return
            c.update(type="release_earnings", reference=refs.pop(0))
        elif choice == "credit":
            c.update(type="credit_earnings", amount=f"{rng.randrange(1, 60)}.00")
        elif choice == "withdraw":
            c.update(type="withdraw_earnings", amount=f"{rng.randrange(1, 200)}.00")
        elif choice == "buy":
            c.update(type="purchase_connects", quantity=rng.choice([5, 10, 20, 40, 15]))
        elif choice == "propose":
            job = f"j-{rng.randrange(40)}"
            proposal = self._id("p")
            invited = rng.random() < 0.1
            c.update(type="submit_proposal", proposal_id=proposal, job_id=job,
                     connects=0 if invited else rng.randrange(1, 7), invited=invited)
            if self.submit(c).ok:
                self.proposals.setdefault(account, []).append((proposal, job))
            return
        elif choice in ("withdraw_p", "cancel_job"):
            props = self.proposals.get(account, [])
            if not props:
                return
            proposal, job = rng.choice(props)
            if choice == "withdraw_p":
                c.update(type="withdraw_proposal", proposal_id=proposal)
            else:
                c.update(type="cancel_job", job_id=job,
                         reason=rng.choice(["cancelled_without_hire", "removed_by_marketplace"]))
        elif choice == "contract":
            c.update(type=rng.choice(["open_contract", "close_contract"]),
                     contract_id=f"k-{rng.randrange(3)}")
            if c["type"] == "open_contract":
                c.update(hourly=rng.random() < 0.5, role="freelancer")
        elif choice == "job":
            c.update(type=rng.choice(["post_job", "close_job"]), job_id=f"pj-{rng.randrange(3)}")
        elif choice == "invoice":
            if rng.random() < 0.5:
                c.update(type="record_invoice", invoice_id=self._id("i"), amount="50.00")
            else:
                c.update(type="pay_invoice", invoice_id=f"i-{rng.randrange(self.seq + 1)}")
        elif choice == "team":
            members = [p for p in self.people if p != account]
            if not members:
                return
            c.update(type="add_team_member", member_id=rng.choice(members),
                     role=rng.choice(["admin", "manager", "member"]))
        else:
            c["type"] = "close_account"
        self.submit(c)


def build(url: str, accounts: int, start: str = "2018-09-01", days: int = 420,
          seed: int = 7) -> Ledger:
    ledger = Ledger.open(url, clock=CLOCK)
    Simulation(ledger, seed).run(accounts, date.fromisoformat(start), days)
    ledger.run_billing(through=(date.fromisoformat(start) + timedelta(days=days)).isoformat())
    return ledger


if __name__ == "__main__":
    path, count = sys.argv[1], int(sys.argv[2])
    months = int(sys.argv[3]) if len(sys.argv) > 3 else 14
    led = build(f"sqlite:///{path}", count, days=months * 30)
    print(led.recorder.max_notification_id(), "notifications")
