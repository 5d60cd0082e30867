"""The demo's work actions: contracts and earnings, clients' jobs and invoices, teams,
and the account's own status (suspensions, and closures, which clear the work first).

Each action is a function of the running `Simulation` and the `Actor` it acts for; it
sends commands through `sim.send`, exactly as an app would, and keeps the actor's
memory in step with what the ledger accepted. The menus in `simulation` pick them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.demo.simulation import Actor, Simulation


# -- work and earnings -------------------------------------------------------------


def hired(sim: Simulation, actor: Actor) -> None:
    """A proposal wins: a contract runs for a while, then earnings flow."""
    proposal_id = sim.rng.choice(list(actor.proposals))
    actor.hired[proposal_id] = actor.proposals.pop(proposal_id)
    contract_id = actor.new_id("ctr-")
    who = sim.team_actor(actor, ("manager", "admin"))
    if sim.send(actor, "open_contract", contract_id=contract_id,
                hourly=sim.chance(0.4), role="freelancer", **who).ok:
        actor.contracts.append(contract_id)
        sim.later(sim.rng.randint(10, 80), lambda: finish_contract(sim, actor, contract_id))


def finish_contract(sim: Simulation, actor: Actor, contract_id: str) -> None:
    if not actor.live or contract_id not in actor.contracts:
        return
    sim.send(actor, "close_contract", contract_id=contract_id, **sim.team_actor(
        actor, ("manager", "admin")))
    actor.contracts.remove(contract_id)
    earn(sim, actor, Decimal(sim.rng.randrange(4000, 250000)) / 100)


def earn(sim: Simulation, actor: Actor, amount: Decimal) -> None:
    reference = actor.new_id("pay-")
    if sim.send(actor, "record_pending_earnings", reference=reference,
                amount=str(amount)).ok:
        actor.pending.append(reference)
        sim.later(sim.rng.randint(5, 14), lambda: release(sim, actor, reference))


def release(sim: Simulation, actor: Actor, reference: str) -> None:
    if actor.live and reference in actor.pending:
        actor.pending.remove(reference)
        sim.send(actor, "release_earnings", reference=reference)
        if sim.chance(0.6):
            sim.later(sim.rng.randint(1, 20), lambda: withdraw(sim, actor, 0.9))


def withdraw(sim: Simulation, actor: Actor, share: float) -> None:
    if not actor.live:
        return
    # What is available, after any membership or Connects the earnings paid for (a
    # renewal falling due at this very command may still take its share first).
    available = sim.view(actor).earnings.available
    amount = (available * Decimal(str(share))).quantize(Decimal("0.01"))
    if amount > 0:
        sim.send(actor, "withdraw_earnings", amount=str(amount))


def bonus(sim: Simulation, actor: Actor) -> None:
    sim.send(actor, "credit_earnings", amount=f"{sim.rng.randint(5, 150)}.00",
             reference=actor.new_id("bonus-"))


# -- clients: jobs, contracts, invoices, teams -------------------------------------


def post_job(sim: Simulation, actor: Actor) -> None:
    job_id = actor.new_id("job-")
    if sim.send(actor, "post_job", job_id=job_id, **sim.team_actor(
            actor, ("manager", "admin"))).ok:
        actor.jobs.append(job_id)


def close_job(sim: Simulation, actor: Actor) -> None:
    job_id = actor.jobs.pop(0)
    sim.send(actor, "close_job", job_id=job_id)


def client_hire(sim: Simulation, actor: Actor) -> None:
    contract_id = actor.new_id("ctr-")
    if sim.send(actor, "open_contract", contract_id=contract_id, hourly=sim.chance(0.5),
                role="client", **sim.team_actor(actor, ("manager", "admin"))).ok:
        actor.contracts.append(contract_id)
        sim.later(sim.rng.randint(7, 90), lambda: client_finish(sim, actor, contract_id))


def client_finish(sim: Simulation, actor: Actor, contract_id: str) -> None:
    if not actor.live or contract_id not in actor.contracts:
        return
    actor.contracts.remove(contract_id)
    sim.send(actor, "close_contract", contract_id=contract_id)
    invoice_id = actor.new_id("inv-")
    if sim.send(actor, "record_invoice", invoice_id=invoice_id,
                amount=f"{sim.rng.randint(100, 20000)}.00").ok:
        actor.invoices.append(invoice_id)
        sim.later(sim.rng.randint(1, 30), lambda: pay_invoice(sim, actor, invoice_id))


def pay_invoice(sim: Simulation, actor: Actor, invoice_id: str) -> None:
    if actor.live and invoice_id in actor.invoices:
        actor.invoices.remove(invoice_id)
        sim.send(actor, "pay_invoice", invoice_id=invoice_id)


def add_member(sim: Simulation, actor: Actor) -> None:
    wanted = "freelancer" if actor.kind == "agency" else "member"
    people = [p for p in sim.actors if p.kind == wanted and p.live
              and p is not actor.owner and p.account_id not in actor.team]
    if not people:
        return
    person = sim.rng.choice(people)
    role = sim.rng.choice(("member", "member", "manager", "admin"))
    if sim.send(actor, "add_team_member", member_id=person.account_id, role=role,
                **sim.team_actor(actor, ("admin",))).ok:
        actor.team[person.account_id] = role
        person.teams.append(actor.account_id)


def remove_member(sim: Simulation, actor: Actor) -> None:
    member_id = sim.rng.choice(list(actor.team))
    if sim.send(actor, "remove_team_member", member_id=member_id).ok:
        forget_membership(sim, actor, member_id)


def leave_team(sim: Simulation, actor: Actor) -> None:
    team_id = sim.rng.choice(actor.teams)
    result = sim.send(actor, "leave_team", team_id=team_id)
    team = sim.by_id[team_id]
    if result.ok:
        forget_membership(sim, team, actor.account_id)
        actor.closed = "AccountClosed" in result.events  # the last team


def forget_membership(sim: Simulation, team: Actor, member_id: str) -> None:
    team.team.pop(member_id, None)
    person = sim.by_id[member_id]
    if team.account_id in person.teams:
        person.teams.remove(team.account_id)


# -- status: suspensions and closures ----------------------------------------------


def suspend(sim: Simulation, actor: Actor) -> None:
    reason = sim.rng.choice(("identity check", "terms of service review", "chargeback"))
    if sim.send(actor, "suspend_account", reason=reason).ok:
        actor.suspended = True
        if sim.chance(0.8):
            sim.later(sim.rng.randint(3, 30), lambda: reinstate(sim, actor))


def reinstate(sim: Simulation, actor: Actor) -> None:
    if actor.live and sim.send(actor, "reinstate_account", reason="resolved").ok:
        actor.suspended = False


def close(sim: Simulation, actor: Actor) -> None:
    """Clear every blocker first (R-7.1), then close; R-7.2's group closes together."""
    if any(not owned.opened for owned in actor.owned):
        return  # never close before the accounts it is about to open
    group = closing_group(actor)
    for member in group:
        for agency in [o for o in member.owned if o.kind == "agency" and o.live]:
            close(sim, agency)  # an open agency blocks its owner's closure
        clear(sim, member)
    result = sim.send(actor, "close_account")
    if result.ok:
        for member in group:
            member.closed = True
    elif result.error is not None and result.error.blockers == ["hourly_billing_week"]:
        # an hourly contract's billing week must end first; try next week.
        sim.later(7, lambda: close(sim, actor) if actor.live else None)


def closing_group(actor: Actor) -> list[Actor]:
    if actor.kind == "company" and actor.owner is not None and actor.owner.live:
        return [actor, actor.owner, *[c for c in actor.owner.owned
                                      if c.kind == "company" and c is not actor and c.live]]
    if actor.kind in ("freelancer", "member"):
        return [actor, *[c for c in actor.owned if c.kind == "company" and c.live]]
    return [actor]


def clear(sim: Simulation, actor: Actor) -> None:
    for proposal_id in [*actor.proposals, *actor.hired]:
        sim.send(actor, "withdraw_proposal", proposal_id=proposal_id)
    actor.proposals.clear()
    actor.hired.clear()
    for contract_id in actor.contracts:
        sim.send(actor, "close_contract", contract_id=contract_id)
    actor.contracts.clear()
    for job_id in actor.jobs:
        sim.send(actor, "close_job", job_id=job_id)
    actor.jobs.clear()
    for invoice_id in list(actor.invoices):
        pay_invoice(sim, actor, invoice_id)
    for member_id in list(actor.team):
        sim.send(actor, "remove_team_member", member_id=member_id)
        forget_membership(sim, actor, member_id)
    for reference in list(actor.pending):
        release(sim, actor, reference)
    if actor.kind in ("freelancer", "member", "agency"):
        withdraw(sim, actor, 1.0)
