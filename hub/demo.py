"""`salon-edge demo`: a day at a demo store, printing every ticket to the terminal.

The store is a real edge store (fsynced journal, snapshots, sales history) in a
temporary directory that is removed at the end, or in ``--data-dir`` to look at it
afterwards with ``salon-edge store info``. No hardware or broker is needed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TextIO

from edge_store.store import EdgeStore
from hub.demo_data import DEMO_DAY, DESK, STYLIST, seed
from hub.receipt_text import render_recharge, render_ticket
from kiosk.i18n import Locale, render_error, text
from salon.catalog import ItemKind
from salon.checkout import Checkout
from salon.errors import DomainError
from salon.events import Event
from salon.members import MemberRegistered, RegisterMember, mask_mobile, mask_name
from salon.money import format_fen
from salon.payments import Payment, PaymentMethod, recognise_pay_code
from salon.pricing import LineDraft
from salon.sales import Recharge
from salon.staff import StaffShare
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
        paid = _one(self.salon.execute(command), TicketPaid)
        assert isinstance(paid, TicketPaid)
        self.out.write(render_ticket(self.salon.state, paid, self.locale))
        return paid

    def run(self) -> int:
        state = self.salon.state
        seed(self.salon)
        self.say("demo.title", store=state.config.store_name)
        self.say("demo.setup", staff=len(state.staff.staff), services=len(state.catalog.services),
                 version=state.catalog.version)

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
