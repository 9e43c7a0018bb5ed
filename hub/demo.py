"""`salon-edge demo`: a day at a demo store, printing every ticket to the terminal.

The store is a real edge store (fsynced journal, snapshots, sales history) in a
temporary directory that is removed at the end, or in ``--data-dir`` to look at it
afterwards with ``salon-edge store info``. No hardware or broker is needed.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from edge_store.store import EdgeStore
from hub.demo_data import DEMO_DAY, DESK, MANAGER, OWNER, STYLIST, seed
from hub.receipt_text import render_recharge, render_ticket
from kiosk.i18n import Locale, render_error, text
from salon.admin import HireStaff
from salon.appointments import (
    AppointmentRefused,
    BookAppointment,
    CheckInAppointment,
    StartAppointment,
    appointment_to_check_in,
    day_view,
)
from salon.catalog import ItemKind
from salon.checkout import Checkout
from salon.errors import DomainError
from salon.events import Event
from salon.members import MemberRegistered, RegisterMember, mask_mobile, mask_name
from salon.money import format_fen
from salon.payments import Payment, PaymentMethod, recognise_pay_code
from salon.pricing import LineDraft
from salon.queue import AssignNext, ClockIn, JoinQueue, WalkInAssigned, estimated_waits
from salon.sales import Recharge
from salon.schedules import Hours, SetStaffSchedule, local_day
from salon.shifts import CloseShift, OpenShift, ShiftClosed
from salon.staff import Role, StaffShare
from salon.stock import LowStockAlerted, ReceiveStock
from salon.stored_value import StoredValueRecharged
from salon.testing import ManualClock, SequentialIds
from salon.tickets import RechargePaid, TicketPaid

__all__ = ["run"]


def _one(events: tuple[Event, ...], kind: type[Event]) -> Event:
    return next(e for e in events if isinstance(e, kind))


class _Day:
    def __init__(self, out: TextIO, locale: Locale, data_dir: Path) -> None:
        self.out = out
        self.locale = locale
        self.clock = ManualClock(DEMO_DAY)
        self.salon = EdgeStore.open(data_dir, DEMO_STORE_ID, self.clock, SequentialIds("T"))
        self.step_no = 0

    def say(self, msgid: str, **params: object) -> None:
        self.out.write(text(msgid, self.locale, **params) + "\n")

    def step(self, msgid: str, **params: object) -> None:
        self.step_no += 1
        self.out.write(f"\n[{self.step_no}] " + text(msgid, self.locale, **params) + "\n\n")
        self.clock.advance(minutes=25)

    def ticket(self, command: Checkout) -> TicketPaid:
        events = self.salon.execute(command)
        paid = _one(events, TicketPaid)
        assert isinstance(paid, TicketPaid)
        self.out.write(render_ticket(self.salon.state, paid, self.locale))
        for alert in (e for e in events if isinstance(e, LowStockAlerted)):
            product = self.salon.state.catalog.product(alert.product_id)
            self.say("demo.low_stock", product=product.name, level=alert.level,
                     threshold=alert.threshold)
        return paid

    def _local(self, at: datetime) -> str:
        return at.astimezone(self.salon.state.config.checkout.zone()).strftime("%H:%M")

    def open_day(self) -> None:
        """The shift, the staff on duty, their hours, the shampoo received."""
        self.step("demo.open_day")
        self.salon.execute(HireStaff(actor_id=OWNER, staff_id=SECOND_STYLIST, name="Amy",
                                     role=Role.STYLIST, level="junior", reason="入职"))
        self.salon.execute(OpenShift(actor_id=DESK, float_fen=50_000))
        for staff_id in (STYLIST, SECOND_STYLIST):
            self.salon.execute(SetStaffSchedule(
                actor_id=MANAGER, staff_id=staff_id,
                week=tuple((Hours(10 * 60, 21 * 60),) for _ in range(7))))
            self.salon.execute(ClockIn(actor_id=staff_id))
        self.salon.execute(ReceiveStock(actor_id=MANAGER, lines=(("P-SH", 5),), reason="到货"))
        self.say("demo.day_opened", float=format_fen(50_000), staff="Tony, Amy",
                 product=self.salon.state.catalog.product("P-SH").name, level=5)

    def book_day(self) -> str:
        """Three bookings, one refused with the next free times, the board of the day."""
        self.step("demo.book_day")
        start = DEMO_DAY + timedelta(hours=1)  # 11:00
        guests = (("李女士", "13900001111", ("CUT",), STYLIST, start),
                  ("王先生", "13900002222", ("COLOR",), STYLIST, start + timedelta(hours=3)),
                  ("赵女士", "13900003333", ("WASH",), "", start + timedelta(hours=2)))
        first = ""
        for name, mobile, services, staff_id, at in guests:
            (event,) = self.salon.execute(BookAppointment(
                actor_id=DESK, service_ids=services, start=at, staff_id=staff_id,
                guest_name=name, guest_mobile=mobile))
            first = first or event.appointment.appointment_id  # type: ignore[attr-defined]
        try:
            self.salon.execute(BookAppointment(
                actor_id=DESK, service_ids=("CUT",), start=start + timedelta(minutes=30),
                staff_id=STYLIST, guest_name="孙先生", guest_mobile="13900004444"))
        except AppointmentRefused as err:
            self.say("demo.booking_refused", message=render_error(err, self.locale),
                     times=", ".join(self._local(s.start) for s in err.suggestions))
        state = self.salon.state
        for staff_id, appointments in day_view(state, local_day(state, DEMO_DAY)).items():
            for appt in appointments:
                services = "、".join(state.catalog.service(s).name for s in appt.service_ids)
                self.say("demo.booked", staff=state.staff.get(staff_id).name,
                         start=self._local(appt.start), end=self._local(appt.end),
                         services=services, name=mask_name(appt.guest_name))
        return first

    def check_in_and_walk_in(self, appointment_id: str) -> None:
        self.step("demo.check_in")
        state = self.salon.state
        code = state.appointments.get(appointment_id).code
        found = appointment_to_check_in(state, self.clock(), code=code)
        assert found is not None
        self.salon.execute(CheckInAppointment(actor_id=DESK, appointment_id=found.appointment_id))
        self.salon.execute(StartAppointment(actor_id=STYLIST,
                                            appointment_id=found.appointment_id))
        self.say("demo.checked_in", code=code, name=mask_name(found.guest_name),
                 staff=state.staff.get(found.staff_id).name)
        self.step("demo.walk_in")
        (queued,) = self.salon.execute(JoinQueue(actor_id=DESK, category="hair",
                                                 service_id="CUT", guest_name="周先生",
                                                 guest_mobile="13900005555"))
        walk_in = queued.walk_in  # type: ignore[attr-defined]
        wait = estimated_waits(state, "hair", self.clock()).get(walk_in.walk_in_id, 0)
        self.say("demo.queued", number=walk_in.number, minutes=wait)
        (assigned,) = self.salon.execute(AssignNext(actor_id=DESK, category="hair"))
        assert isinstance(assigned, WalkInAssigned)
        self.say("demo.assigned", number=walk_in.number,
                 staff=state.staff.get(assigned.staff_id).name)

    def close_shift(self) -> None:
        self.step("demo.shift_close")
        shift = self.salon.state.shifts.open_shift
        assert shift is not None
        # The blind count: what the till holds, entered before the expected figures show.
        counted = shift.expected_by()
        (closed,) = self.salon.execute(CloseShift(actor_id=DESK, counted=tuple(
            Payment(PaymentMethod(m), fen) for m, fen in counted.items())))
        assert isinstance(closed, ShiftClosed)
        expected = dict(closed.shift.expected)
        for method, fen in sorted(dict(closed.shift.counted).items()):
            if fen or expected[method]:
                self.say("demo.shift_line", method=text(f"method.{method}", self.locale),
                         expected=format_fen(expected[method]), counted=format_fen(fen),
                         variance=format_fen(fen - expected[method]))
        tally = closed.shift.tally
        self.say("demo.shift_totals", tickets=tally.tickets, recharges=tally.recharges,
                 card_sales=tally.card_sales)

    def run(self) -> int:
        state = self.salon.state
        seed(self.salon)
        self.say("demo.title", store=state.config.store_name)
        self.say("demo.setup", staff=len(state.staff.staff), services=len(state.catalog.services),
                 version=state.catalog.version)
        self.open_day()
        self.check_in_and_walk_in(self.book_day())

        self.step("demo.register")
        events = self.salon.execute(RegisterMember(
            actor_id=DESK, name="张三丰", mobile="138 1234 5678", card_uid="04:A1:B2:C3"))
        registered = _one(events, MemberRegistered)
        assert isinstance(registered, MemberRegistered)
        member_id = registered.member_id
        member = state.members.get(member_id)
        self.say("demo.registered", name=mask_name(member.name), mobile=mask_mobile(member.mobile))

        self.step("demo.recharge")
        events = self.salon.execute(Recharge(
            actor_id=DESK, member_id=member_id, principal_fen=100_000,
            payments=(Payment(PaymentMethod.WECHAT, 100_000, "DEMO-WX-0001"),),
            staff=(StaffShare(STYLIST),)))
        ledger = _one(events, StoredValueRecharged)
        paid_in = _one(events, RechargePaid)
        assert isinstance(ledger, StoredValueRecharged) and isinstance(paid_in, RechargePaid)
        self.out.write(render_recharge(state, paid_in, ledger.principal_fen, ledger.bonus_fen,
                                       self.locale))

        self.step("demo.sell_package")
        pay_code = "281234567890123456"
        method = recognise_pay_code(pay_code)
        self.say("demo.pay_code", method=text(f"method.{method.value}", self.locale))
        self.ticket(Checkout(
            actor_id=DESK, price_list_version=state.catalog.version, member_id=member_id,
            lines=(LineDraft(ItemKind.PACKAGE, "FACIAL10", staff=(StaffShare(STYLIST),)),),
            payments=(Payment(method, 198_000, "DEMO-ALI-0001"),)))
        card = state.packages.cards_of(member_id)[0]

        self.step("demo.haircut")
        self.ticket(Checkout(
            actor_id=DESK, price_list_version=state.catalog.version, member_id=member_id,
            lines=(LineDraft(ItemKind.SERVICE, "CUT",
                             staff=(StaffShare(STYLIST, designated=True),)),),
            payments=(Payment(PaymentMethod.STORED_VALUE, 11_520),)))

        self.step("demo.package_session")
        self.ticket(Checkout(
            actor_id=DESK, price_list_version=state.catalog.version, member_id=member_id,
            lines=(LineDraft(ItemKind.SERVICE, "FACIAL", package_card_id=card.card_id,
                             staff=(StaffShare(STYLIST),)),)))

        self.step("demo.refused")
        try:
            self.salon.execute(Checkout(
                actor_id=DESK, price_list_version=state.catalog.version, member_id=member_id,
                lines=(LineDraft(ItemKind.SERVICE, "COLOR", quantity=4),),
                payments=(Payment(PaymentMethod.STORED_VALUE, 139_680),)))
        except DomainError as err:
            self.say("demo.refusal", message=render_error(err, self.locale))

        self.step("demo.points", points=1_000)
        self.ticket(Checkout(
            actor_id=DESK, price_list_version=state.catalog.version, member_id=member_id,
            lines=(LineDraft(ItemKind.PRODUCT, "P-SH"),), redeem_points=1_000,
            payments=(Payment(PaymentMethod.CASH, 20_000),)))

        self.close_shift()
        self.step("demo.summary")
        self._summary()
        return 0

    def _summary(self) -> None:
        state = self.salon.state
        tickets = list(state.tickets.tickets.values())
        self.say("demo.summary_tickets", n=len(tickets),
                 total=format_fen(sum(t.paid.due_fen for t in tickets)))
        self.say("demo.summary_liability", amount=format_fen(state.accounts.liability_fen()))
        self.say("demo.summary_commission", name="Tony",
                 amount=format_fen(state.commissions.lifetime_fen(STYLIST)))
        records = self.salon.records_after(0, limit=10**6)
        self.say("demo.summary_journal", records=len(records),
                 events=sum(len(r.decoded()["events"]) for r in records))


DEMO_STORE_ID = "store-demo-001"
SECOND_STYLIST = "S005"


def run(out: TextIO, locale: Locale = "zh_CN", data_dir: Path | None = None) -> int:
    """Walk through a demo day; returns 0 when every step did what it should."""
    if data_dir is not None:
        return _run_in(out, locale, data_dir)
    with tempfile.TemporaryDirectory(prefix="salon-demo-") as tmp:
        return _run_in(out, locale, Path(tmp))


def _run_in(out: TextIO, locale: Locale, data_dir: Path) -> int:
    day = _Day(out, locale, data_dir)
    try:
        return day.run()
    finally:
        day.salon.close()
