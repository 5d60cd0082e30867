"""`ledger demo`: the main job. A year of sample accounts, then a summary.

The simulator walks day by day across a seeded population (freelancers most, plus
members, agencies, companies and enterprises) and sends every action through
`Ledger.submit`, exactly as an app would. Commands are stamped with one clock that
only moves forward, so no account is ever back-dated (R-8.2), even by a command that
also writes to another account (team members, owners). Some commands are refused on
purpose (declining cards, too few Connects, closures with blockers): they are counted
by error code. The summary's figures are read back from the ledger (views and event
history), never from what the simulator meant to do.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.progress import ProgressBar
from ledger.results import AccountView, Result

# A Monday well inside the v2019 policy version, so every figure is v2019's.
START = date(2021, 1, 4)

KINDS = ("freelancer", "member", "agency", "company", "enterprise")
ABBR = {"freelancer": "fl", "member": "mb", "agency": "ag", "company": "co", "enterprise": "en"}
# Shares of the population; freelancers dominate a marketplace.
SHARES = {"freelancer": 0.62, "member": 0.12, "agency": 0.10, "company": 0.12,
          "enterprise": 0.04}
BUNDLES = {"freelancer": (10, 20, 20, 40, 60, 80), "agency": (20, 40, 80, 150, 300)}
PROMOS = ("PLUSMONTH", "HALFOFF3")
# Expected actions per month by activity level: most marketplace accounts idle, a few
# are busy. Per-account activity (not the population) is what keeps the demo quick:
# each command costs two SQLite commits (events, then views).
ACTIVITY = ((0.55, 0.1), (0.33, 0.65), (0.12, 2.3))

Action = Callable[["Actor"], None]


# -- the simulator's own memory of each account --------------------------------------


@dataclass(eq=False)
class Actor:
    account_id: str
    kind: str
    open_day: int
    rate: float  # expected actions per month
    owner: Actor | None = None
    opened: bool = False
    closed: bool = False
    suspended: bool = False
    serial: int = 0
    methods: list[str] = field(default_factory=list)  # oldest first; [0] is primary
    proposals: dict[str, str] = field(default_factory=dict)  # active, not hired: id -> job
    hired: dict[str, str] = field(default_factory=dict)  # active proposals that won work
    contracts: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    invoices: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # earnings references not released
    team: dict[str, str] = field(default_factory=dict)  # member id -> role
    teams: list[str] = field(default_factory=list)  # teams this person is on
    owned: list[Actor] = field(default_factory=list)

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    @property
    def live(self) -> bool:
        return self.opened and not self.closed


# -- what the ledger says, summed from its events -------------------------------------


@dataclass
class LedgerFigures:
    by_kind: Counter[str] = field(default_factory=Counter)
    by_plan: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    granted: Counter[str] = field(default_factory=Counter)  # refills, proration, ...
    spent: int = 0
    expired: Counter[str] = field(default_factory=Counter)  # by reason
    held: int = 0  # the views' Connects balances, summed
    charges: Counter[str] = field(default_factory=Counter)  # channel -> count
    charged: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    failed: Counter[str] = field(default_factory=Counter)  # by purpose
    events: int = 0


@dataclass
class DemoReport:
    tag: str
    start: date
    end: date
    seed: int
    account_ids: dict[str, str]  # account id -> kind, as opened
    accepted: int
    rejected: Counter[str]
    billing_runs: int
    seconds: float
    figures: LedgerFigures

    @property
    def commands(self) -> int:
        return self.accepted + sum(self.rejected.values())


# -- the simulation ------------------------------------------------------------------


class Simulation:
    def __init__(self, ledger: Ledger, tag: str, rng: random.Random, start: date,
                 days: int) -> None:
        self.ledger, self.tag, self.rng = ledger, tag, rng
        self.start, self.days = start, days
        self.day = 0
        self.tick = 0
        self.accepted = 0
        self.rejected: Counter[str] = Counter()
        self.agenda: dict[int, list[Callable[[], None]]] = defaultdict(list)
        self.actors: list[Actor] = []
        self.by_id: dict[str, Actor] = {}
        self.billing_runs = 0

    # -- plumbing ------------------------------------------------------------------

    def at(self) -> str:
        # One clock for every account, moving a second per command: commands that
        # write to two accounts can never back-date either of them.
        self.tick += 1
        moment = datetime.combine(self.start + timedelta(days=self.day),
                                  datetime.min.time(), tzinfo=UTC)
        return (moment + timedelta(hours=6, seconds=self.tick)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def send(self, target: Actor, command_type: str, /, **fields: Any) -> Result:
        command = {"type": command_type, "account_id": target.account_id, "at": self.at(), **fields}
        result = self.ledger.submit(command)
        if result.ok:
            self.accepted += 1
        else:
            self.rejected[result.error.code if result.error else "unknown"] += 1
        return result

    def later(self, days: int, step: Callable[[], None]) -> None:
        if self.day + days < self.days:
            self.agenda[self.day + days].append(step)

    def view(self, actor: Actor) -> AccountView:
        return self.ledger.account(actor.account_id)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # -- the day loop --------------------------------------------------------------

    def run(self, progress: Callable[[int], None]) -> None:
        opening = sorted(self.actors, key=lambda a: (a.open_day, a.owner is not None))
        queue = 0
        for day in range(self.days):
            self.day, self.tick = day, 0
            today = self.start + timedelta(days=self.day)
            if today.day == 1:
                # Idle accounts renew too: the catch-up only reaches accounts acted on.
                self.ledger.run_billing(through=today.isoformat())
                self.billing_runs += 1
            for step in self.agenda.pop(self.day, []):
                step()
            while queue < len(opening) and opening[queue].open_day <= self.day:
                self.open(opening[queue])
                queue += 1
            self.act_today()
            progress(1)

    def act_today(self) -> None:
        for actor in self.actors:
            if actor.live and self.chance(actor.rate / 30):
                if actor.suspended and self.chance(0.7):
                    continue  # a suspended user mostly waits for the reinstatement
                MENUS[actor.kind](self, actor)

    # -- opening and billing methods -----------------------------------------------

    def open(self, actor: Actor) -> None:
        owner = {"owner_id": actor.owner.account_id} if actor.owner else {}
        if not self.send(actor, "open_account", kind=actor.kind, **owner).ok:
            return
        actor.opened = True
        if actor.kind == "agency" or (actor.kind == "freelancer" and self.chance(0.7)):
            self.add_methods(actor)

    def add_methods(self, actor: Actor) -> None:
        if self.chance(0.02):
            # Unverified PayPal is refused (paypal_not_verified); a card follows.
            self.add_paypal(actor, verified=False)
        if self.chance(0.15):
            self.add_paypal(actor, verified=True)
        self.add_card(actor)

    def add_card(self, actor: Actor, prepaid: float = 0.0) -> str:
        """A card; a prepaid one may run dry, and the gateway declines it (tok_decline)."""
        method_id = actor.new_id("card-")
        is_prepaid = self.chance(prepaid)
        declining = self.chance(0.5 if is_prepaid else 0.06)
        token = f"tok_decline_{method_id}" if declining else f"tok_ok_{method_id}"
        result = self.send(actor, "add_billing_method", method_id=method_id, method="card",
                           brand=self.rng.choice(("visa", "mastercard", "amex", "discover")),
                           last4=f"{self.rng.randrange(10000):04d}",
                           exp_month=self.rng.randint(1, 12),
                           exp_year=self.rng.randint(2022, 2027), token=token,
                           prepaid=is_prepaid)
        if result.ok:
            actor.methods.append(method_id)
        return method_id

    def add_paypal(self, actor: Actor, verified: bool) -> None:
        method_id = actor.new_id("pp-")
        who = "decline" if self.chance(0.1) else "pay"
        result = self.send(actor, "add_billing_method", method_id=method_id, method="paypal",
                           email=f"{who}-{actor.account_id}@example.com", verified=verified)
        if result.ok:
            actor.methods.append(method_id)

    def churn_methods(self, actor: Actor) -> None:
        """A new card becomes primary and the old primary goes (R-2.4's order)."""
        old = actor.methods[0] if actor.methods else None
        new = self.add_card(actor, prepaid=0.3)
        if old is None or new not in actor.methods:
            return
        if self.send(actor, "make_primary_method", method_id=new).ok:
            actor.methods.remove(new)
            actor.methods.insert(0, new)
            if self.chance(0.6) and self.send(actor, "remove_billing_method",
                                              method_id=old).ok:
                actor.methods.remove(old)

    def suspend_method(self, actor: Actor) -> None:
        if not actor.methods:
            return
        method_id = actor.methods[0]
        if self.send(actor, "suspend_billing_method", method_id=method_id).ok and self.chance(0.7):
            self.later(self.rng.randint(5, 40), lambda: self.reinstate_method(actor, method_id))

    def reinstate_method(self, actor: Actor, method_id: str) -> None:
        if actor.live and method_id in actor.methods:
            self.send(actor, "reinstate_billing_method", method_id=method_id)

    # -- plans ---------------------------------------------------------------------

    def change_plan(self, actor: Actor) -> None:
        view = self.view(actor)  # renewals may have downgraded it since we last looked
        if view.plan == "plus" and not view.downgrade_pending:
            self.send(actor, "downgrade_plan")
        else:
            self.upgrade(actor)

    def upgrade(self, actor: Actor) -> None:
        if not actor.methods and self.chance(0.8):
            self.add_methods(actor)  # else: billing_method_required
        promo = {}
        if actor.kind == "freelancer" and self.chance(0.35):
            promo = {"promo_code": self.rng.choice(PROMOS)}
        result = self.send(actor, "upgrade_plan", **promo)
        declined = result.error is not None and result.error.code == "payment_failed"
        if declined and self.chance(0.5):  # the user fixes the card, tries again next week
            self.later(7, lambda: self.retry_upgrade(actor))

    def retry_upgrade(self, actor: Actor) -> None:
        if actor.live:
            self.churn_methods(actor)
            self.send(actor, "upgrade_plan")

    def redeem_promo(self, actor: Actor) -> None:
        self.send(actor, "redeem_promo_code", code=self.rng.choice(PROMOS))

    # -- Connects and proposals ----------------------------------------------------

    def team_actor(self, actor: Actor, roles: tuple[str, ...]) -> dict[str, str]:
        """Someone on the team acts for an agency or company, else the owner does."""
        allowed = [m for m, role in actor.team.items() if role in roles]
        if allowed and self.chance(0.6):
            return {"actor": self.rng.choice(allowed)}
        return {"actor": actor.owner.account_id} if actor.owner else {}

    def buy_connects(self, actor: Actor) -> None:
        if actor.kind == "agency" and self.view(actor).plan != "plus":
            self.upgrade(actor)  # v2019: an agency buys Connects only on Plus
            return
        if actor.kind == "freelancer" and not actor.methods and self.chance(0.5):
            self.add_card(actor)
        who = self.team_actor(actor, ("admin",)) if actor.kind == "agency" else {}
        self.send(actor, "purchase_connects", quantity=self.rng.choice(BUNDLES[actor.kind]),
                  **who)

    def propose(self, actor: Actor) -> None:
        invited = self.chance(0.12)
        cost = 0 if invited else self.rng.choice((1, 2, 2, 3, 4, 4, 5, 6))
        view = self.view(actor) if cost else None
        if view is not None and view.connects < cost:
            if actor.kind == "agency" and view.plan != "plus":
                self.upgrade(actor)  # v2019: an agency buys Connects only on Plus
                return
            if self.chance(0.6):
                self.buy_connects(actor)  # else: insufficient_connects
        proposal_id, job_id = actor.new_id("prop-"), f"job-{self.rng.randrange(10**6)}"
        who = self.team_actor(actor, ("member", "manager", "admin"))
        if self.send(actor, "submit_proposal", proposal_id=proposal_id, job_id=job_id,
                     connects=cost, invited=invited, **who).ok:
            actor.proposals[proposal_id] = job_id

    def withdraw_proposal(self, actor: Actor) -> None:
        proposal_id = self.rng.choice(list(actor.proposals))
        actor.proposals.pop(proposal_id)
        self.send(actor, "withdraw_proposal", proposal_id=proposal_id)

    def job_cancelled(self, actor: Actor) -> None:
        """The client cancels without a hire: the Connects come back (R-5.5)."""
        proposal_id = self.rng.choice(list(actor.proposals))
        job_id = actor.proposals.pop(proposal_id)
        reason = "removed_by_marketplace" if self.chance(0.2) else "cancelled_without_hire"
        self.send(actor, "cancel_job", job_id=job_id, reason=reason)

    # -- work and earnings ---------------------------------------------------------

    def hired(self, actor: Actor) -> None:
        """A proposal wins: a contract runs for a while, then earnings flow."""
        proposal_id = self.rng.choice(list(actor.proposals))
        actor.hired[proposal_id] = actor.proposals.pop(proposal_id)
        contract_id = actor.new_id("ctr-")
        who = self.team_actor(actor, ("manager", "admin"))
        if self.send(actor, "open_contract", contract_id=contract_id,
                     hourly=self.chance(0.4), role="freelancer", **who).ok:
            actor.contracts.append(contract_id)
            self.later(self.rng.randint(10, 80), lambda: self.finish_contract(actor, contract_id))

    def finish_contract(self, actor: Actor, contract_id: str) -> None:
        if not actor.live or contract_id not in actor.contracts:
            return
        self.send(actor, "close_contract", contract_id=contract_id, **self.team_actor(
            actor, ("manager", "admin")))
        actor.contracts.remove(contract_id)
        self.earn(actor, Decimal(self.rng.randrange(4000, 250000)) / 100)

    def earn(self, actor: Actor, amount: Decimal) -> None:
        reference = actor.new_id("pay-")
        if self.send(actor, "record_pending_earnings", reference=reference,
                     amount=str(amount)).ok:
            actor.pending.append(reference)
            self.later(self.rng.randint(5, 14), lambda: self.release(actor, reference))

    def release(self, actor: Actor, reference: str) -> None:
        if actor.live and reference in actor.pending:
            actor.pending.remove(reference)
            self.send(actor, "release_earnings", reference=reference)
            if self.chance(0.6):
                self.later(self.rng.randint(1, 20), lambda: self.withdraw(actor, 0.9))

    def withdraw(self, actor: Actor, share: float) -> None:
        if not actor.live:
            return
        # What is available, after any membership or Connects the earnings paid for (a
        # renewal falling due at this very command may still take its share first).
        available = self.view(actor).earnings.available
        amount = (available * Decimal(str(share))).quantize(Decimal("0.01"))
        if amount > 0:
            self.send(actor, "withdraw_earnings", amount=str(amount))

    def bonus(self, actor: Actor) -> None:
        self.send(actor, "credit_earnings", amount=f"{self.rng.randint(5, 150)}.00",
                  reference=actor.new_id("bonus-"))

    # -- clients: jobs, contracts, invoices, teams ---------------------------------

    def post_job(self, actor: Actor) -> None:
        job_id = actor.new_id("job-")
        if self.send(actor, "post_job", job_id=job_id, **self.team_actor(
                actor, ("manager", "admin"))).ok:
            actor.jobs.append(job_id)

    def close_job(self, actor: Actor) -> None:
        job_id = actor.jobs.pop(0)
        self.send(actor, "close_job", job_id=job_id)

    def client_hire(self, actor: Actor) -> None:
        contract_id = actor.new_id("ctr-")
        if self.send(actor, "open_contract", contract_id=contract_id, hourly=self.chance(0.5),
                     role="client", **self.team_actor(actor, ("manager", "admin"))).ok:
            actor.contracts.append(contract_id)
            self.later(self.rng.randint(7, 90), lambda: self.client_finish(actor, contract_id))

    def client_finish(self, actor: Actor, contract_id: str) -> None:
        if not actor.live or contract_id not in actor.contracts:
            return
        actor.contracts.remove(contract_id)
        self.send(actor, "close_contract", contract_id=contract_id)
        invoice_id = actor.new_id("inv-")
        if self.send(actor, "record_invoice", invoice_id=invoice_id,
                     amount=f"{self.rng.randint(100, 20000)}.00").ok:
            actor.invoices.append(invoice_id)
            self.later(self.rng.randint(1, 30), lambda: self.pay_invoice(actor, invoice_id))

    def pay_invoice(self, actor: Actor, invoice_id: str) -> None:
        if actor.live and invoice_id in actor.invoices:
            actor.invoices.remove(invoice_id)
            self.send(actor, "pay_invoice", invoice_id=invoice_id)

    def add_member(self, actor: Actor) -> None:
        wanted = "freelancer" if actor.kind == "agency" else "member"
        people = [p for p in self.actors if p.kind == wanted and p.live
                  and p is not actor.owner and p.account_id not in actor.team]
        if not people:
            return
        person = self.rng.choice(people)
        role = self.rng.choice(("member", "member", "manager", "admin"))
        if self.send(actor, "add_team_member", member_id=person.account_id, role=role,
                     **self.team_actor(actor, ("admin",))).ok:
            actor.team[person.account_id] = role
            person.teams.append(actor.account_id)

    def remove_member(self, actor: Actor) -> None:
        member_id = self.rng.choice(list(actor.team))
        if self.send(actor, "remove_team_member", member_id=member_id).ok:
            self.forget_membership(actor, member_id)

    def leave_team(self, actor: Actor) -> None:
        team_id = self.rng.choice(actor.teams)
        result = self.send(actor, "leave_team", team_id=team_id)
        team = self.by_id[team_id]
        if result.ok:
            self.forget_membership(team, actor.account_id)
            actor.closed = "AccountClosed" in result.events  # the last team

    def forget_membership(self, team: Actor, member_id: str) -> None:
        team.team.pop(member_id, None)
        person = self.by_id[member_id]
        if team.account_id in person.teams:
            person.teams.remove(team.account_id)

    # -- status: suspensions and closures ------------------------------------------

    def suspend(self, actor: Actor) -> None:
        reason = self.rng.choice(("identity check", "terms of service review", "chargeback"))
        if self.send(actor, "suspend_account", reason=reason).ok:
            actor.suspended = True
            if self.chance(0.8):
                self.later(self.rng.randint(3, 30), lambda: self.reinstate(actor))

    def reinstate(self, actor: Actor) -> None:
        if actor.live and self.send(actor, "reinstate_account", reason="resolved").ok:
            actor.suspended = False

    def close(self, actor: Actor) -> None:
        """Clear every blocker first (R-7.1), then close; R-7.2's group closes together."""
        if any(not owned.opened for owned in actor.owned):
            return  # never close before the accounts it is about to open
        group = self.closing_group(actor)
        for member in group:
            for agency in [o for o in member.owned if o.kind == "agency" and o.live]:
                self.close(agency)  # an open agency blocks its owner's closure
            self.clear(member)
        result = self.send(actor, "close_account")
        if result.ok:
            for member in group:
                member.closed = True
        elif result.error is not None and result.error.blockers == ["hourly_billing_week"]:
            # an hourly contract's billing week must end first; try next week.
            self.later(7, lambda: self.close(actor) if actor.live else None)

    def closing_group(self, actor: Actor) -> list[Actor]:
        if actor.kind == "company" and actor.owner is not None and actor.owner.live:
            return [actor, actor.owner, *[c for c in actor.owner.owned
                                          if c.kind == "company" and c is not actor and c.live]]
        if actor.kind in ("freelancer", "member"):
            return [actor, *[c for c in actor.owned if c.kind == "company" and c.live]]
        return [actor]

    def clear(self, actor: Actor) -> None:
        for proposal_id in [*actor.proposals, *actor.hired]:
            self.send(actor, "withdraw_proposal", proposal_id=proposal_id)
        actor.proposals.clear()
        actor.hired.clear()
        for contract_id in actor.contracts:
            self.send(actor, "close_contract", contract_id=contract_id)
        actor.contracts.clear()
        for job_id in actor.jobs:
            self.send(actor, "close_job", job_id=job_id)
        actor.jobs.clear()
        for invoice_id in list(actor.invoices):
            self.pay_invoice(actor, invoice_id)
        for member_id in list(actor.team):
            self.send(actor, "remove_team_member", member_id=member_id)
            self.forget_membership(actor, member_id)
        for reference in list(actor.pending):
            self.release(actor, reference)
        if actor.kind in ("freelancer", "member", "agency"):
            self.withdraw(actor, 1.0)


# -- menus: what each kind of account does on an active day ---------------------------


def _choose(sim: Simulation, actor: Actor, options: list[tuple[float, Action]]) -> None:
    weights = [w for w, _ in options]
    action = sim.rng.choices([a for _, a in options], weights=weights)[0]
    action(actor)


def _freelancer(sim: Simulation, a: Actor) -> None:
    options: list[tuple[float, Action]] = [
        (40, sim.propose), (7, sim.buy_connects), (4, sim.change_plan), (0.3, sim.redeem_promo),
        (2, sim.bonus), (2, sim.churn_methods), (0.6, sim.suspend), (0.5, sim.suspend_method),
        (0.5, sim.close)]
    if a.proposals:
        options += [(5, sim.withdraw_proposal), (7, sim.job_cancelled), (9, sim.hired)]
    _choose(sim, a, options)


def _agency(sim: Simulation, a: Actor) -> None:
    # v2019: an agency gets no monthly Connects and buys only on Plus.
    options: list[tuple[float, Action]] = [
        (30, sim.propose), (10, sim.buy_connects), (6, sim.change_plan), (5, sim.add_member),
        (0.5, sim.suspend_method), (0.6, sim.close)]
    if a.team:
        options.append((2, sim.remove_member))
    if a.proposals:
        options += [(3, sim.withdraw_proposal), (4, sim.job_cancelled), (8, sim.hired)]
    _choose(sim, a, options)


def _client(sim: Simulation, a: Actor) -> None:
    options: list[tuple[float, Action]] = [
        (12, sim.post_job), (9, sim.client_hire), (5, sim.add_member), (0.4, sim.suspend),
        (0.4 if a.kind == "company" else 0.1, sim.close)]  # enterprise: contact_account_team
    if a.jobs:
        options.append((6, sim.close_job))
    if a.team:
        options.append((1.5, sim.remove_member))
    _choose(sim, a, options)


def _member(sim: Simulation, a: Actor) -> None:
    # A member acts mostly on its teams' and companies' accounts; on its own it
    # sometimes leaves a team (the last one closes it, R-7.4) or closes with its company.
    if a.teams and sim.chance(0.15):
        sim.leave_team(a)
    elif a.owned and sim.chance(0.03):
        sim.close(a)


MENUS: dict[str, Callable[[Simulation, Actor], None]] = {
    "freelancer": _freelancer, "agency": _agency, "company": _client,
    "enterprise": _client, "member": _member}


# -- the population ------------------------------------------------------------------


def _counts(accounts: int) -> dict[str, int]:
    counts = {kind: max(1, round(accounts * share)) for kind, share in SHARES.items()}
    counts["freelancer"] += accounts - sum(counts.values())  # rounding goes to the majority
    return counts


def _rate(rng: random.Random) -> float:
    pick, total = rng.random(), 0.0
    for share, rate in ACTIVITY:
        total += share
        if pick < total:
            return rate
    return ACTIVITY[-1][1]


def populate(sim: Simulation, accounts: int) -> None:
    """Ids are `{tag}-{kind abbreviation}-{n}`, n from 1 per kind, so a kind's count
    names its accounts. People open over the first half of the run, owned accounts
    within two weeks after their owner."""
    rng, days = sim.rng, sim.days
    made: dict[str, list[Actor]] = {}
    for kind, n in _counts(accounts).items():
        made[kind] = []
        for i in range(1, n + 1):
            actor = Actor(f"{sim.tag}-{ABBR[kind]}-{i}", kind, 0, _rate(rng))
            if kind in ("freelancer", "member", "enterprise"):
                actor.open_day = 0 if i == 1 else int(rng.random() ** 2 * days / 2)
            made[kind].append(actor)
    _assign_owners(rng, made, days)
    sim.actors = [a for kind in KINDS for a in made[kind]]
    sim.by_id = {a.account_id: a for a in sim.actors}


def _assign_owners(rng: random.Random, made: dict[str, list[Actor]], days: int) -> None:
    # a person owns at most one agency, so agencies take distinct freelancers
    # (the shares leave more freelancers than agencies at any size).
    agency_owners = rng.sample(made["freelancer"], len(made["agency"]))
    people = made["member"] * 3 + made["freelancer"]  # companies are owned by members most
    company_owners = [rng.choice(people) for _ in made["company"]]
    for owned, owner in zip(made["agency"] + made["company"], agency_owners + company_owners,
                            strict=True):
        owned.owner = owner
        owner.owned.append(owned)
        owned.open_day = min(owner.open_day + rng.randint(0, 14), days - 1)
    for enterprise in made["enterprise"]:
        enterprise.rate = max(enterprise.rate, 1.0)  # enterprises are never idle


# -- reading the figures back from the ledger -----------------------------------------


def measure(ledger: Ledger, account_ids: Iterable[str]) -> LedgerFigures:
    figures = LedgerFigures()
    for account_id in account_ids:
        view = ledger.account(account_id)
        figures.by_kind[view.kind] += 1
        figures.by_plan[view.plan or "none"] += 1
        figures.by_status[view.status] += 1
        figures.held += view.connects
        history = ledger.history(account_id)
        figures.events += len(history)
        _fold(figures, history)
    return figures


def _fold(figures: LedgerFigures, history: list[dict[str, Any]]) -> None:
    method_kinds: dict[str, str] = {}
    for event in history:
        name, data = event["name"], event["data"]
        if name == "MethodAdded":
            method_kinds[data["method_id"]] = data["method"]
        elif name == "ConnectsRefilled":
            figures.granted["refills"] += data["quantity"]
        elif name == "ConnectsGranted":
            figures.granted[data["source"]] += data["quantity"]
        elif name == "ConnectsPurchased":
            figures.granted["purchases"] += data["quantity"]
            _charge(figures, data, method_kinds)
        elif name == "ConnectsRefunded":
            figures.granted["refunds"] += data["quantity"]
        elif name == "ConnectsSpent":
            figures.spent += data["quantity"]
        elif name == "ConnectsExpired":
            figures.expired[data["reason"]] += data["quantity"]
        elif name == "MembershipCharged":
            _charge(figures, data, method_kinds)
        elif name == "PaymentFailed":
            figures.failed[data["purpose"]] += 1


def _charge(figures: LedgerFigures, data: dict[str, Any], method_kinds: dict[str, str]) -> None:
    # `method_id` is the method that paid: a PayPal decline's backup card counts as card.
    channel = data["source"]
    if channel == "method":
        channel = method_kinds.get(data["method_id"] or "", "card")
    figures.charges[channel] += 1
    figures.charged[channel] += Decimal(data["amount"])


# -- running and printing ------------------------------------------------------------


def run_tag(ledger: Ledger) -> str:
    """The first `demoN` whose first account does not exist yet in this store."""
    n = 1
    while True:
        try:
            ledger.account(f"demo{n}-fl-1")
        except LedgerError as exc:
            if exc.code == "unknown_account":
                return f"demo{n}"
            raise
        n += 1


def end_of(start: date, months: int) -> date:
    end: date = start + relativedelta(months=months)
    return end


def simulate(ledger: Ledger, accounts: int, months: int, seed: int,
             progress: Callable[[int], None] | None = None) -> DemoReport:
    """Run the simulation on `ledger` (its clock at or after the end) and measure it."""
    started = time.monotonic()
    end = end_of(START, months)
    sim = Simulation(ledger, run_tag(ledger), random.Random(seed), START, (end - START).days)
    populate(sim, accounts)
    sim.run(progress or (lambda n: None))
    ledger.run_billing(through=end.isoformat())
    sim.billing_runs += 1
    opened = {a.account_id: a.kind for a in sim.actors if a.opened}
    figures = measure(ledger, opened)
    return DemoReport(sim.tag, START, end, seed, opened, sim.accepted, sim.rejected,
                      sim.billing_runs, time.monotonic() - started, figures)


def _pairs(counts: dict[str, int], order: Iterable[str] = ()) -> str:
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return ", ".join(f"{k} {counts[k]}" for k in keys) or "none"


def format_report(report: DemoReport) -> str:
    f = report.figures
    rate = report.commands / max(report.seconds, 1e-9)
    return "\n".join([
        f"demo run {report.tag}: {report.start} to {report.end}, seed {report.seed}",
        f"accounts     {len(report.account_ids)} opened: {_pairs(f.by_kind, KINDS)}",
        f"  by plan    {_pairs(f.by_plan, ('basic', 'plus', 'none'))}",
        f"  by status  {_pairs(f.by_status, ('active', 'suspended', 'closed'))}",
        f"connects     granted {sum(f.granted.values())} "
        f"({_pairs(f.granted, ('refills', 'proration', 'purchases', 'refunds'))})",
        f"             spent {f.spent}, expired {sum(f.expired.values())} "
        f"({_pairs(f.expired)}), held {f.held}",
        *_money_lines(f),
        f"failed       {sum(f.failed.values())} payments: "
        f"{_pairs(f.failed, ('upgrade', 'renewal', 'purchase'))}",
        f"commands     {report.commands}: {report.accepted} accepted, "
        f"{sum(report.rejected.values())} rejected",
        *[f"  {code:<24} {n:>6}" for code, n in report.rejected.most_common()],
        f"events       {f.events} recorded ({report.billing_runs} billing runs)",
        f"time         {report.seconds:.1f} s, {rate:.0f} commands/s",
    ])


def _money_lines(f: LedgerFigures) -> list[str]:
    total = sum(f.charged.values(), Decimal(0))
    lines = [f"charged      {total:,.2f} USD in {sum(f.charges.values())} charges"]
    for channel in ("earnings", "card", "paypal", "promo"):
        if f.charges[channel]:
            label = "promo (free)" if channel == "promo" else channel
            lines.append(f"  {label:<14} {f.charges[channel]:>6} charges "
                         f"{f.charged[channel]:>12,.2f} USD")
    return lines


def run_demo(args: argparse.Namespace) -> int:
    """`ledger demo`: the simulation has its own clock, fixed at its end date."""
    if args.accounts < len(KINDS) or args.months < 1:
        print(f"ledger: demo needs --accounts >= {len(KINDS)} and --months >= 1",
              file=sys.stderr)
        return 2
    if args.clock:
        print(f"ledger demo: --clock is not used; the demo's clock starts at {START}",
              file=sys.stderr)
    end = end_of(START, args.months)
    ledger = Ledger.open(args.store, clock=end.isoformat(), policy=args.policy)
    try:
        bar = ProgressBar("demo: days", total=(end - START).days)
        report = simulate(ledger, args.accounts, args.months, args.seed, bar.advance)
        bar.close()
    finally:
        ledger.close()
    print(format_report(report))
    store = f" --store {args.store}" if args.store else ""
    print(f"look around: ledger{store} show {report.tag}-fl-1; "
          f"ledger{store} history {report.tag}-fl-1")
    return 0
