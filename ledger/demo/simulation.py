"""The demo's simulator: the sample accounts, the day loop and what each kind does.

`Actor` is the simulator's own memory of an account. `Simulation` holds the plumbing
every action shares (one clock that only moves forward, `send`, an agenda of steps
for later days) and walks day by day; on an active day an account's menu picks one
action from `simulation_billing` (billing methods, plans, Connects, proposals) or
`simulation_work` (work, earnings, clients, teams, suspensions and closures).
`populate` makes the seeded population.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ledger.application import Ledger
from ledger.commands import ACCOUNT_ACTION, command_kind
from ledger.demo.simulation_billing import (
    buy_connects,
    change_plan,
    churn_methods,
    job_cancelled,
    open_account,
    propose,
    redeem_promo,
    suspend_method,
    withdraw_proposal,
)
from ledger.demo.simulation_work import (
    add_member,
    bonus,
    client_hire,
    close,
    close_job,
    hired,
    leave_team,
    post_job,
    remove_member,
    suspend,
)
from ledger.results import AccountView, Result

KINDS = ("freelancer", "member", "agency", "company", "enterprise")
ABBR = {"freelancer": "fl", "member": "mb", "agency": "ag", "company": "co", "enterprise": "en"}
# Shares of the population; freelancers dominate a marketplace.
SHARES = {"freelancer": 0.62, "member": 0.12, "agency": 0.10, "company": 0.12,
          "enterprise": 0.04}
# Expected actions per month by activity level: most marketplace accounts idle, a few
# are busy. Per-account activity (not the population) is what keeps the demo quick:
# each command costs two SQLite commits (events, then views).
ACTIVITY = ((0.55, 0.1), (0.33, 0.65), (0.12, 2.3))


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


# -- the simulation ------------------------------------------------------------------


def recorded_at(day: date) -> datetime:
    """When the ledger records what happens on `day`: that evening on weekdays; what
    happens on a Saturday or Sunday is recorded on Monday at 01:00 (the weekend's
    facts are recorded late), so `--known-at` on a Sunday does not know Saturday yet."""
    monday = day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else None
    if monday is not None:
        return datetime.combine(monday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23)


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
        if (target.owner is not None and "actor" not in fields
                and command_kind(command_type) == ACCOUNT_ACTION):
            # an agency or company never acts by itself; unless a team member was
            # chosen, its owner is the person acting (and is named, for every kind).
            fields["actor"] = target.owner.account_id
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

    def team_actor(self, actor: Actor, roles: tuple[str, ...]) -> dict[str, str]:
        """Someone on the team acts for an agency or company, else the owner does."""
        allowed = [m for m, role in actor.team.items() if role in roles]
        if allowed and self.chance(0.6):
            return {"actor": self.rng.choice(allowed)}
        return {"actor": actor.owner.account_id} if actor.owner else {}

    # -- the day loop --------------------------------------------------------------

    def run(self, progress: Callable[[int], None]) -> None:
        opening = sorted(self.actors, key=lambda a: (a.open_day, a.owner is not None))
        queue = 0
        for day in range(self.days):
            self.day, self.tick = day, 0
            today = self.start + timedelta(days=self.day)
            self.ledger.set_clock(recorded_at(today))
            if today.day == 1:
                # Idle accounts renew too: the catch-up only reaches accounts acted on.
                self.ledger.run_billing(through=today.isoformat())
                self.billing_runs += 1
            for step in self.agenda.pop(self.day, []):
                step()
            while queue < len(opening) and opening[queue].open_day <= self.day:
                open_account(self, opening[queue])
                queue += 1
            self.act_today()
            progress(1)

    def finish(self, end: date) -> None:
        """The clock at the end (or where the last weekend's recording left it)."""
        last = self.ledger.clock.now()
        self.ledger.set_clock(max(last, datetime.combine(end, datetime.min.time(), tzinfo=UTC)))

    def act_today(self) -> None:
        for actor in self.actors:
            if actor.live and self.chance(actor.rate / 30):
                if actor.suspended and self.chance(0.7):
                    continue  # a suspended user mostly waits for the reinstatement
                MENUS[actor.kind](self, actor)


# -- menus: what each kind of account does on an active day ---------------------------

Action = Callable[[Simulation, Actor], None]


def _choose(sim: Simulation, actor: Actor, options: list[tuple[float, Action]]) -> None:
    weights = [w for w, _ in options]
    action = sim.rng.choices([a for _, a in options], weights=weights)[0]
    action(sim, actor)


def _freelancer(sim: Simulation, a: Actor) -> None:
    options: list[tuple[float, Action]] = [
        (40, propose), (7, buy_connects), (4, change_plan), (0.3, redeem_promo),
        (2, bonus), (2, churn_methods), (0.6, suspend), (0.5, suspend_method),
        (0.5, close)]
    if a.proposals:
        options += [(5, withdraw_proposal), (7, job_cancelled), (9, hired)]
    _choose(sim, a, options)


def _agency(sim: Simulation, a: Actor) -> None:
    # v2019: an agency gets no monthly Connects and buys only on Plus.
    options: list[tuple[float, Action]] = [
        (30, propose), (10, buy_connects), (6, change_plan), (5, add_member),
        (0.5, suspend_method), (0.6, close)]
    if a.team:
        options.append((2, remove_member))
    if a.proposals:
        options += [(3, withdraw_proposal), (4, job_cancelled), (8, hired)]
    _choose(sim, a, options)


def _client(sim: Simulation, a: Actor) -> None:
    options: list[tuple[float, Action]] = [
        (12, post_job), (9, client_hire), (5, add_member), (0.4, suspend),
        (0.4 if a.kind == "company" else 0.1, close)]  # enterprise: contact_account_team
    if a.jobs:
        options.append((6, close_job))
    if a.team:
        options.append((1.5, remove_member))
    _choose(sim, a, options)


def _member(sim: Simulation, a: Actor) -> None:
    # A member acts mostly on its teams' and companies' accounts; on its own it
    # sometimes leaves a team (the last one closes it, R-7.4) or closes with its company.
    if a.teams and sim.chance(0.15):
        leave_team(sim, a)
    elif a.owned and sim.chance(0.03):
        close(sim, a)


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

