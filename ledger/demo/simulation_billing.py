"""The demo's billing actions: opening accounts, billing methods, plans, Connects and
proposals.

Each action is a function of the running `Simulation` and the `Actor` it acts for; it
sends commands through `sim.send`, exactly as an app would, and keeps the actor's
memory in step with what the ledger accepted. The menus in `simulation` pick them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.demo.simulation import Actor, Simulation

BUNDLES = {"freelancer": (10, 20, 20, 40, 60, 80), "agency": (20, 40, 80, 150, 300)}
PROMOS = ("PLUSMONTH", "HALFOFF3")


# -- opening and billing methods ---------------------------------------------------


def open_account(sim: Simulation, actor: Actor) -> None:
    owner = {"owner_id": actor.owner.account_id} if actor.owner else {}
    if not sim.send(actor, "open_account", kind=actor.kind, **owner).ok:
        return
    actor.opened = True
    if actor.kind == "agency" or (actor.kind == "freelancer" and sim.chance(0.7)):
        add_methods(sim, actor)


def add_methods(sim: Simulation, actor: Actor) -> None:
    if sim.chance(0.02):
        # Unverified PayPal is refused (paypal_not_verified); a card follows.
        add_paypal(sim, actor, verified=False)
    if sim.chance(0.15):
        add_paypal(sim, actor, verified=True)
    add_card(sim, actor)


def add_card(sim: Simulation, actor: Actor, prepaid: float = 0.0) -> str:
    """A card; a prepaid one may run dry, and the gateway declines it (tok_decline)."""
    method_id = actor.new_id("card-")
    is_prepaid = sim.chance(prepaid)
    declining = sim.chance(0.5 if is_prepaid else 0.06)
    token = f"tok_decline_{method_id}" if declining else f"tok_ok_{method_id}"
    result = sim.send(actor, "add_billing_method", method_id=method_id, method="card",
                      brand=sim.rng.choice(("visa", "mastercard", "amex", "discover")),
                      last4=f"{sim.rng.randrange(10000):04d}",
                      exp_month=sim.rng.randint(1, 12),
                      exp_year=sim.rng.randint(2022, 2027), token=token,
                      prepaid=is_prepaid)
    if result.ok:
        actor.methods.append(method_id)
    return method_id


def add_paypal(sim: Simulation, actor: Actor, verified: bool) -> None:
    method_id = actor.new_id("pp-")
    who = "decline" if sim.chance(0.1) else "pay"
    result = sim.send(actor, "add_billing_method", method_id=method_id, method="paypal",
                      email=f"{who}-{actor.account_id}@example.com", verified=verified)
    if result.ok:
        actor.methods.append(method_id)


def churn_methods(sim: Simulation, actor: Actor) -> None:
    """A new card becomes primary and the old primary goes (R-2.4's order)."""
    old = actor.methods[0] if actor.methods else None
    new = add_card(sim, actor, prepaid=0.3)
    if old is None or new not in actor.methods:
        return
    if sim.send(actor, "make_primary_method", method_id=new).ok:
        actor.methods.remove(new)
        actor.methods.insert(0, new)
        if sim.chance(0.6) and sim.send(actor, "remove_billing_method",
                                        method_id=old).ok:
            actor.methods.remove(old)


def suspend_method(sim: Simulation, actor: Actor) -> None:
    if not actor.methods:
        return
    method_id = actor.methods[0]
    if sim.send(actor, "suspend_billing_method", method_id=method_id).ok and sim.chance(0.7):
        sim.later(sim.rng.randint(5, 40), lambda: reinstate_method(sim, actor, method_id))


def reinstate_method(sim: Simulation, actor: Actor, method_id: str) -> None:
    if actor.live and method_id in actor.methods:
        sim.send(actor, "reinstate_billing_method", method_id=method_id)


# -- plans -------------------------------------------------------------------------


def change_plan(sim: Simulation, actor: Actor) -> None:
    view = sim.view(actor)  # renewals may have downgraded it since we last looked
    if view.plan == "plus" and not view.downgrade_pending:
        sim.send(actor, "downgrade_plan")
    else:
        upgrade(sim, actor)


def upgrade(sim: Simulation, actor: Actor) -> None:
    if not actor.methods and sim.chance(0.8):
        add_methods(sim, actor)  # else: billing_method_required
    promo = {}
    if actor.kind == "freelancer" and sim.chance(0.35):
        promo = {"promo_code": sim.rng.choice(PROMOS)}
    result = sim.send(actor, "upgrade_plan", **promo)
    declined = result.error is not None and result.error.code == "payment_failed"
    if declined and sim.chance(0.5):  # the user fixes the card, tries again next week
        sim.later(7, lambda: retry_upgrade(sim, actor))


def retry_upgrade(sim: Simulation, actor: Actor) -> None:
    if actor.live:
        churn_methods(sim, actor)
        sim.send(actor, "upgrade_plan")


def redeem_promo(sim: Simulation, actor: Actor) -> None:
    sim.send(actor, "redeem_promo_code", code=sim.rng.choice(PROMOS))


# -- Connects and proposals --------------------------------------------------------


def buy_connects(sim: Simulation, actor: Actor) -> None:
    if actor.kind == "agency" and sim.view(actor).plan != "plus":
        upgrade(sim, actor)  # v2019: an agency buys Connects only on Plus
        return
    if actor.kind == "freelancer" and not actor.methods and sim.chance(0.5):
        add_card(sim, actor)
    who = sim.team_actor(actor, ("admin",)) if actor.kind == "agency" else {}
    sim.send(actor, "purchase_connects", quantity=sim.rng.choice(BUNDLES[actor.kind]),
             **who)


def propose(sim: Simulation, actor: Actor) -> None:
    invited = sim.chance(0.12)
    cost = 0 if invited else sim.rng.choice((1, 2, 2, 3, 4, 4, 5, 6))
    view = sim.view(actor) if cost else None
    if view is not None and view.connects < cost:
        if actor.kind == "agency" and view.plan != "plus":
            upgrade(sim, actor)  # v2019: an agency buys Connects only on Plus
            return
        if sim.chance(0.6):
            buy_connects(sim, actor)  # else: insufficient_connects
    proposal_id, job_id = actor.new_id("prop-"), f"job-{sim.rng.randrange(10**6)}"
    who = sim.team_actor(actor, ("member", "manager", "admin"))
    if sim.send(actor, "submit_proposal", proposal_id=proposal_id, job_id=job_id,
                connects=cost, invited=invited, **who).ok:
        actor.proposals[proposal_id] = job_id


def withdraw_proposal(sim: Simulation, actor: Actor) -> None:
    proposal_id = sim.rng.choice(list(actor.proposals))
    actor.proposals.pop(proposal_id)
    sim.send(actor, "withdraw_proposal", proposal_id=proposal_id)


def job_cancelled(sim: Simulation, actor: Actor) -> None:
    """The client cancels without a hire: the Connects come back (R-5.5)."""
    proposal_id = sim.rng.choice(list(actor.proposals))
    job_id = actor.proposals.pop(proposal_id)
    reason = "removed_by_marketplace" if sim.chance(0.2) else "cancelled_without_hire"
    sim.send(actor, "cancel_job", job_id=job_id, reason=reason)
