"""The kiosk's day view of free slots, at a busy store's months of bookings.

    python bench/appointments_bench.py [--staff 10] [--history 365] [--days 60]
                                       [--per-day 6] [--runs 200]

Books ``--per-day`` appointments a day for each of ``--staff`` stylists (a cut, a wash
or both, through the real commands): for each of ``--history`` days before today on
that day's morning (a year of past appointments in the book), then ``--days`` days
ahead from today (the booking horizon). Then times, for the day in the middle of the
days ahead:

* ``free_slots`` for every stylist at once (the kiosk's booking screen: goal ≤ 50 ms
  for 10 staff), and ``day_view`` (the appointments on the board);
* the baseline, measured in the same run: the same free slots found by brute force,
  every step of every stylist's working day tested against every live appointment in
  the book (what the indexes by staff and day save).

Prints p50 / p99 / max in milliseconds and the slots found (the two must agree).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.demo_data import DEMO_DAY, DESK, MANAGER, OWNER, seed
from salon.admin import HireStaff
from salon.appointments import LIVE, BookAppointment, day_view, free_slots
from salon.context import Context
from salon.engine import Salon
from salon.errors import DomainError
from salon.schedules import Hours, SetStaffSchedule, at_local, local_day
from salon.staff import Role
from salon.testing import ManualClock, SequentialIds

SERVICES = (("CUT",), ("WASH",), ("CUT", "WASH"))


def build(staff: int, history: int, days: int, per_day: int,
          ) -> tuple[Salon, list[str], ManualClock, int]:
    """The salon, its stylists, its clock (today) and how many bookings were refused."""
    clock = ManualClock(DEMO_DAY - timedelta(days=history + 1))
    salon = Salon(Context("store-bench-appt", clock, SequentialIds("A")))
    seed(salon)
    stylists = [f"ST{n:02d}" for n in range(staff)]
    for n, staff_id in enumerate(stylists):
        salon.execute(HireStaff(actor_id=OWNER, staff_id=staff_id, name=f"发型师{n}",
                                role=Role.STYLIST, level="senior", reason="入职"))
        salon.execute(SetStaffSchedule(actor_id=MANAGER, staff_id=staff_id,
                                       week=tuple((Hours(600, 1260),) for _ in range(7))))
    today = local_day(salon.state, DEMO_DAY)
    refused = 0
    for d in range(-history, days):
        day = today + timedelta(days=d)
        if d <= 0:  # a past day: booked that morning
            clock.now = at_local(salon.state, day, 8 * 60)
        for k, staff_id in enumerate(stylists):
            minute = 600 + (k * 15) % 60
            for i in range(per_day):
                services = SERVICES[(d + k + i) % len(SERVICES)]
                try:
                    salon.execute(BookAppointment(
                        actor_id=DESK, service_ids=services, start=at_local(salon.state, day,
                                                                            minute),
                        staff_id=staff_id, guest_name="顾客", guest_mobile="13900000000"))
                except DomainError:
                    refused += 1
                minute += 90
    return salon, stylists, clock, refused


def brute_force(salon: Salon, stylists: list[str], day: date, now: datetime) -> int:
    state = salon.state
    live = [a for a in state.appointments.appointments.values() if a.status in LIVE]
    found = 0
    length = timedelta(minutes=45 + 20)  # a cut then a wash, as timed below
    for staff_id in stylists:
        for hours in state.schedules.working_hours(staff_id, day):
            minute = hours.start_min
            while minute + 65 <= hours.end_min:
                start = at_local(state, day, minute)
                end = start + length
                if start >= now and not any(
                        a.staff_id == staff_id and a.start < end and start < a.end for a in live):
                    found += 1
                minute += state.config.appointments.slot_step_min
    return found


def _times(fn: object, runs: int) -> tuple[list[float], object]:
    out = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()  # type: ignore[operator]
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out), result


def _row(label: str, ms: list[float]) -> str:
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{label:44s} {statistics.median(ms):7.2f} {p99:7.2f} {ms[-1]:7.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=10)
    parser.add_argument("--history", type=int, default=365)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--per-day", type=int, default=6)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    salon, stylists, clock, refused = build(args.staff, args.history, args.days, args.per_day)
    booked = len(salon.state.appointments.appointments)
    print(f"booked {booked} appointments for {args.staff} staff, {args.history} days past "
          f"and {args.days} ahead ({refused} refused) in {time.perf_counter() - started:.1f} s")
    day = local_day(salon.state, DEMO_DAY) + timedelta(days=args.days // 2)
    now = clock()
    slots_ms, slots = _times(lambda: free_slots(salon.state, ("CUT", "WASH"), day, now),
                             args.runs)
    view_ms, _ = _times(lambda: day_view(salon.state, day), args.runs)
    brute_ms, brute = _times(lambda: brute_force(salon, stylists, day, now),
                             max(3, args.runs // 20))
    assert isinstance(slots, dict)
    found = sum(len(v) for k, v in slots.items() if k in stylists)
    print(f"\nday {day}: {found} free starts for a cut and a wash "
          f"(brute force: {brute})\n")
    print(f"{'ms':44s} {'p50':>7s} {'p99':>7s} {'max':>7s}")
    print(_row(f"free_slots, every qualified staff ({len(slots)})", slots_ms))
    print(_row("day_view", view_ms))
    print(_row("baseline: brute force over every appointment", brute_ms))
    return 0 if found == brute else 1


if __name__ == "__main__":
    sys.exit(main())
