"""Bytes per sale of the points ledger (state.points) over years of synthetic sales.

Run: python -m bench.points_memory [members] [sales ...]
It drives hub.workload.Workload on an in-memory salon.engine.Salon, spreading the sales
over about four years and running ExpirePoints once a month (as a manager would), then
prints the deep size of state.points as built and after a JSON snapshot round trip
(edge_store.codec: strings are no longer shared after it, as at start-up), per sale.
Two runs: the plain workload (points are earned, never spent: they all expire), and a
mixed one where every 4th sale also spends points and every 50th refunds an older ticket.
Commission month totals are stubbed out: they are not what this measures and they make
long runs slow.
"""

from __future__ import annotations

import json
import sys
from collections import deque
from dataclasses import fields, is_dataclass
from datetime import timedelta
from typing import Any

from edge_store.codec import decode, encode
from hub.demo_data import DEMO_DAY, MANAGER
from hub.workload import CHECKOUT_LINES, Workload
from salon import commissions
from salon.checkout import Checkout
from salon.context import Context
from salon.engine import Salon
from salon.payments import Payment, PaymentMethod
from salon.points import ExpirePoints, PointsBook
from salon.pricing import price_ticket
from salon.refunds import RefundTicket
from salon.testing import ManualClock
from salon.tickets import TicketPaid

DAYS = 4 * 365


def deep_size(root: object) -> int:
    """Bytes of ``root`` and everything it references, each object counted once."""
    seen: set[int] = set()
    todo: deque[Any] = deque([root])
    total = 0
    while todo:
        obj = todo.pop()
        if id(obj) in seen or obj is None or isinstance(obj, type):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            todo.extend(obj.keys())
            todo.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            todo.extend(obj)
        elif is_dataclass(obj):
            todo.extend(getattr(obj, f.name) for f in fields(obj))
    return total


class MixedWorkload(Workload):
    """The workload's sales, with points spent on some tickets and some tickets refunded."""

    def __init__(self, salon: Salon, clock: ManualClock) -> None:
        super().__init__(salon, lambda: salon.state, clock)
        self.count = 0
        self.tickets: list[str] = []

    def checkout(self, member_id: str) -> tuple[Any, ...]:
        self.count += 1
        if self.count % 50 == 0 and self.tickets:
            ticket_id = self.tickets.pop(self.rng.randrange(len(self.tickets)))
            self.store.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket_id, reason="退"))
        if self.count % 4:
            events = super().checkout(member_id)
        else:
            events = self._redeeming_checkout(member_id)
        self.tickets.extend(e.ticket_id for e in events if isinstance(e, TicketPaid))
        return events

    def _redeeming_checkout(self, member_id: str) -> tuple[Any, ...]:
        self.clock.advance(seconds=self.rng.randint(60, 900))
        state, now = self.state(), self.clock()
        due = price_ticket(state, member_id=member_id, lines=CHECKOUT_LINES, now=now).due_fen
        points = min(state.points.balance(member_id, now), due // 2)
        quote = price_ticket(state, member_id=member_id, lines=CHECKOUT_LINES, now=now,
                             redeem_points=points)
        if state.accounts.balance_fen(member_id, now) < quote.due_fen:
            return super().checkout(member_id)
        return self.store.execute(Checkout(
            actor_id=MANAGER, price_list_version=state.catalog.version, member_id=member_id,
            lines=CHECKOUT_LINES, redeem_points=points,
            payments=(Payment(PaymentMethod.STORED_VALUE, quote.due_fen),)))


def run(members: int, checkpoints: list[int], mixed: bool) -> None:
    clock = ManualClock(DEMO_DAY)
    counter = iter(range(1, 10**9))
    salon = Salon(Context("store-bench", clock, lambda: f"{next(counter):032x}"))
    work = (MixedWorkload(salon, clock) if mixed
            else Workload(salon, lambda: salon.state, clock))
    work.setup()
    work.register(members)
    total = max(checkpoints)
    step = max(1, total * 30 // DAYS)  # about one month of sales between sweeps
    done = 0
    kind = "mixed: 1/4 of sales spend points, 1/50 refund" if mixed else "plain workload"
    print(f"\nmembers={members}, {kind}; ~{DAYS // 365} years, expiry sweep monthly")
    print(f"{'sales':>7} {'live lots':>9} {'points bytes':>13} {'B/sale':>7} "
          f"{'after snapshot':>15} {'B/sale':>7}")
    while done < total:
        n = min(step, min(c for c in checkpoints if c > done) - done)
        work.sales(n, per_day=10**9)
        done += n
        clock.now = DEMO_DAY + timedelta(days=DAYS * done // total)
        salon.execute(ExpirePoints(actor_id=MANAGER))
        if done in checkpoints:
            book = salon.state.points
            built = deep_size(book)
            snapshot = json.loads(json.dumps(encode(book, PointsBook)))
            loaded = deep_size(decode(snapshot, PointsBook))
            lots = sum(len(book.lots(m)) for m in book.member_ids())
            print(f"{done:>7} {lots:>9} {built:>13,} {built // done:>7} "
                  f"{loaded:>15,} {loaded // done:>7}")


if __name__ == "__main__":
    commissions.CommissionBook.month_base_fen = lambda self, *a, **k: 0  # type: ignore[method-assign]
    args = [int(a) for a in sys.argv[1:]] or [2000, 6000, 12000]
    for mixed in (False, True):
        run(args[0], sorted(args[1:]), mixed)
