"""A synthetic busy store (members, recharges, checkouts) for store tests and benchmarks.

It issues real domain commands, so every event it produces went through the same
rules as a sale at the till: a checkout of three lines (a designated haircut, a wash
and a shampoo bottle) paid by stored value, earning points and commission.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from hub.demo_data import DESK, STYLIST, seed
from salon.catalog import ItemKind
from salon.checkout import Checkout
from salon.commands import Command
from salon.events import Event
from salon.members import MemberRegistered, RegisterMember
from salon.payments import Payment, PaymentMethod
from salon.pricing import LineDraft, price_ticket
from salon.sales import Recharge
from salon.staff import StaffShare
from salon.state import SalonState
from salon.testing import ManualClock

__all__ = ["CHECKOUT_LINES", "Executor", "Workload", "mobile_of"]

CHECKOUT_LINES = (
    LineDraft(ItemKind.SERVICE, "CUT", staff=(StaffShare(STYLIST, designated=True),)),
    LineDraft(ItemKind.SERVICE, "WASH", staff=(StaffShare(STYLIST),)),
    LineDraft(ItemKind.PRODUCT, "P-SH", staff=(StaffShare(STYLIST),)),
)


class Executor(Protocol):
    """What the workload drives: ``salon.engine.Salon`` or ``edge_store.EdgeStore``."""

    def execute(self, command: Command) -> tuple[Event, ...]: ...


def mobile_of(n: int) -> str:
    """The n-th synthetic member's mobile: valid CN numbers, all distinct up to 10**8."""
    return f"139{n:08d}"


class Workload:
    """Commands of a synthetic store; ``state`` reads the executor's current state."""

    def __init__(
        self, store: Executor, state: Callable[[], SalonState], clock: ManualClock, seed_: int = 7,
    ) -> None:
        self.store = store
        self.state = state
        self.clock = clock
        self.rng = random.Random(seed_)
        self.members: list[str] = []

    def setup(self) -> None:
        seed(self.store)  # type: ignore[arg-type]  # seed only calls execute

    def register(self, count: int) -> None:
        start = len(self.members)
        for n in range(start, start + count):
            events = self.store.execute(RegisterMember(
                actor_id=DESK, name=f"会员{n}", mobile=mobile_of(n), card_uid=f"C{n:08X}"))
            registered = next(e for e in events if isinstance(e, MemberRegistered))
            self.members.append(registered.member_id)
            self.clock.advance(seconds=1)

    def recharge(self, member_id: str, principal_fen: int = 100_000) -> tuple[Event, ...]:
        self.clock.advance(seconds=30)
        return self.store.execute(Recharge(
            actor_id=DESK, member_id=member_id, principal_fen=principal_fen,
            payments=(Payment(PaymentMethod.CASH, principal_fen),), staff=(StaffShare(STYLIST),)))

    def checkout_command(self, member_id: str) -> Checkout:
        state = self.state()
        quote = price_ticket(state, member_id=member_id, lines=CHECKOUT_LINES, now=self.clock())
        return Checkout(
            actor_id=DESK, price_list_version=state.catalog.version, member_id=member_id,
            lines=CHECKOUT_LINES, payments=(Payment(PaymentMethod.STORED_VALUE, quote.due_fen),))

    def checkout(self, member_id: str) -> tuple[Event, ...]:
        """A three-line sale paid by stored value; recharges the member first when short."""
        self.clock.advance(seconds=self.rng.randint(60, 900))
        command = self.checkout_command(member_id)
        balance = self.state().accounts.balance_fen(member_id, self.clock())
        if balance < command.payments[0].amount_fen:
            self.recharge(member_id)  # may lift the member's tier, and so change the price
            command = self.checkout_command(member_id)
        return self.store.execute(command)

    def sales(self, count: int, per_day: int = 150) -> None:
        """``count`` checkouts by random members, ``per_day`` a day, days moving forward."""
        for n in range(count):
            if n and n % per_day == 0:
                self.clock.advance(hours=12)
            self.checkout(self.rng.choice(self.members))
