"""Stock: movements from sales, refunds, backbar use, receiving, transfers, write-offs and
stock-takes; the low-stock alert; member deposits (寄存); each refusal with its code and
an unchanged state; and (a property) every level is the sum of its movements."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, PRODUCTS, SERVICES, assert_refused, make_salon
from test_checkout import member, paid, prd, svc
from test_checkout import sale as checkout_of

from salon.admin import PublishPriceList
from salon.checkout import Checkout
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.payments import PaymentMethod
from salon.pricing import LineDraft
from salon.refunds import RefundTicket
from salon.staff import Permission
from salon.stock import (
    AdjustStock,
    CountStock,
    CreatePurchaseOrder,
    FinishStockTake,
    LowStockAlerted,
    MovementKind,
    POStatus,
    ReceiveStock,
    StartStockTake,
    StockMoved,
    StoreDeposit,
    SubmitPurchaseOrder,
    TakeDeposit,
    TransferStock,
    low_stock,
)
from salon.testing import ManualClock

CASH = PaymentMethod.CASH


def _salon() -> tuple[Salon, ManualClock]:
    salon, clock = make_salon()
    # Shampoo: alert below 5 on hand. A cut uses 1 of the mask (as backbar) per cut.
    products = tuple(replace(p, low_stock_at=5) if p.product_id == "sh1" else p
                     for p in PRODUCTS)
    services = tuple(replace(s, backbar=(("mask", 1),)) if s.service_id == "cut" else s
                     for s in SERVICES)
    salon.execute(PublishPriceList(actor_id="hq", version=2, services=services,
                                   products=products, plans=()))
    return salon, clock


def sale(lines: tuple[LineDraft, ...] | LineDraft, *payments: tuple[PaymentMethod, int],
         ) -> Checkout:
    """A checkout at price list 2 (this file's)."""
    return replace(checkout_of(lines, *payments), price_list_version=2)


def _moves(salon: Salon) -> list[StockMoved]:
    return [e for e in salon.history if isinstance(e, StockMoved)]


def test_a_sale_and_its_refund_move_stock_and_a_cut_uses_its_backbar() -> None:
    salon, _ = _salon()
    salon.execute(ReceiveStock(actor_id=MANAGER, lines=(("sh1", 10), ("mask", 4))))
    ticket = paid(salon.execute(sale((prd("sh1", quantity=2), svc("cut")), (CASH, 46_400))))
    stock = salon.state.stock
    assert (stock.level("sh1"), stock.level("mask")) == (8, 3)
    kinds = [(m.product_id, m.kind, m.delta) for m in _moves(salon)][-2:]
    assert kinds == [("sh1", MovementKind.SALE, -2), ("mask", MovementKind.BACKBAR, -1)]
    salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id, reason="退货"))
    # The shampoo is back on the shelf; the mask the cut used is not.
    assert (stock.level("sh1"), stock.level("mask")) == (10, 3)
    assert _moves(salon)[-1].kind is MovementKind.REFUND


def test_crossing_the_threshold_raises_one_alert_in_the_same_commit() -> None:
    salon, _ = _salon()
    salon.execute(ReceiveStock(actor_id=MANAGER, lines=(("sh1", 6),)))
    events = salon.execute(sale(prd("sh1"), (CASH, 16_800)))
    assert not any(isinstance(e, LowStockAlerted) for e in events)  # 5 left: not below 5
    events = salon.execute(sale(prd("sh1"), (CASH, 16_800)))
    (alert,) = [e for e in events if isinstance(e, LowStockAlerted)]
    assert (alert.product_id, alert.level, alert.threshold) == ("sh1", 4, 5)
    events = salon.execute(sale(prd("sh1"), (CASH, 16_800)))
    assert not any(isinstance(e, LowStockAlerted) for e in events)  # already below
    assert low_stock(salon.state) == ["sh1"]  # the status light blinks green for it
    # Selling past zero is not refused: the books go negative, the next count corrects.
    for _ in range(5):
        salon.execute(sale(prd("sh1"), (CASH, 16_800)))
    assert salon.state.stock.level("sh1") == -2


def test_a_purchase_order_goes_draft_submitted_received_in_parts() -> None:
    salon, _ = _salon()
    (created,) = salon.execute(CreatePurchaseOrder(actor_id=MANAGER, supplier="欧莱雅",
                                                   lines=(("sh1", 10), ("mask", 20))))
    po = created.order.po_id  # type: ignore[attr-defined]
    assert_refused(salon, ReceiveStock(actor_id=MANAGER, po_id=po, lines=(("sh1", 1),)),
                   ErrorCode.PURCHASE_ORDER_STATUS)  # a draft is not yet ordered
    salon.execute(SubmitPurchaseOrder(actor_id=MANAGER, po_id=po))
    assert_refused(salon, SubmitPurchaseOrder(actor_id=MANAGER, po_id=po),
                   ErrorCode.PURCHASE_ORDER_STATUS)
    salon.execute(ReceiveStock(actor_id=MANAGER, po_id=po, lines=(("sh1", 10), ("mask", 5))))
    order = salon.state.stock.orders[po]
    assert order.status is POStatus.SUBMITTED and order.outstanding() == {"mask": 15}
    assert_refused(salon, ReceiveStock(actor_id=MANAGER, po_id=po, lines=(("mask", 16),)),
                   ErrorCode.RECEIVE_OVER_ORDER)
    salon.execute(ReceiveStock(actor_id=MANAGER, po_id=po, lines=(("mask", 15),)))
    assert po not in salon.state.stock.orders  # received whole: no longer open
    assert salon.state.stock.level("mask") == 20
    assert_refused(salon, ReceiveStock(actor_id=MANAGER, po_id=po, lines=(("mask", 1),)),
                   ErrorCode.UNKNOWN_PURCHASE_ORDER)


def test_stock_refusals_leave_the_state_unchanged() -> None:
    salon, _ = _salon()
    salon.execute(ReceiveStock(actor_id=MANAGER, lines=(("sh1", 3),)))
    assert_refused(salon, ReceiveStock(actor_id=DESK, lines=(("sh1", 1),)),
                   ErrorCode.PERMISSION_DENIED)
    assert_refused(salon, ReceiveStock(actor_id=MANAGER, lines=()), ErrorCode.INVALID_INPUT)
    assert_refused(salon, ReceiveStock(actor_id=MANAGER, lines=(("nope", 1),)),
                   ErrorCode.UNKNOWN_PRODUCT)
    assert_refused(salon, ReceiveStock(actor_id=MANAGER, lines=(("sh1", 0),)),
                   ErrorCode.NEGATIVE_QUANTITY)
    assert_refused(salon, ReceiveStock(actor_id=MANAGER, lines=(("sh1", 1), ("sh1", 2))),
                   ErrorCode.INVALID_INPUT)
    assert_refused(salon, TransferStock(actor_id=MANAGER, to_store_id="store-002",
                                        lines=(("sh1", 4),)), ErrorCode.INSUFFICIENT_STOCK)
    assert_refused(salon, TransferStock(actor_id=MANAGER, to_store_id="store-001",
                                        lines=(("sh1", 1),)), ErrorCode.INVALID_INPUT)
    assert_refused(salon, AdjustStock(actor_id=MANAGER, product_id="sh1", quantity=1,
                                      kind=MovementKind.WRITE_OFF, reason=""),
                   ErrorCode.REASON_REQUIRED)
    assert_refused(salon, AdjustStock(actor_id=MANAGER, product_id="sh1", quantity=1,
                                      kind=MovementKind.SALE, reason="x"),
                   ErrorCode.INVALID_INPUT)
    assert_refused(salon, CountStock(actor_id=MANAGER, product_id="sh1", counted=1),
                   ErrorCode.NO_STOCK_TAKE)
    assert_refused(salon, FinishStockTake(actor_id=MANAGER, reason="x"), ErrorCode.NO_STOCK_TAKE)
    m = member(salon)
    assert_refused(salon, TakeDeposit(actor_id=DESK, member_id=m, product_id="sh1",
                                      quantity=1), ErrorCode.DEPOSIT_SHORT)


def test_transfer_write_off_overage_and_a_stock_take_with_a_managers_adjustment() -> None:
    salon, _ = _salon()
    salon.execute(ReceiveStock(actor_id=MANAGER, lines=(("sh1", 10), ("mask", 10))))
    salon.execute(TransferStock(actor_id=MANAGER, to_store_id="store-002", lines=(("sh1", 2),)))
    salon.execute(AdjustStock(actor_id=MANAGER, product_id="mask", quantity=1,
                              kind=MovementKind.WRITE_OFF, reason="破损"))
    salon.execute(AdjustStock(actor_id=MANAGER, product_id="mask", quantity=2,
                              kind=MovementKind.OVERAGE, reason="多到"))
    assert (salon.state.stock.level("sh1"), salon.state.stock.level("mask")) == (8, 11)
    salon.execute(StartStockTake(actor_id=MANAGER))
    assert_refused(salon, StartStockTake(actor_id=MANAGER), ErrorCode.STOCK_TAKE_OPEN)
    salon.execute(CountStock(actor_id=MANAGER, product_id="sh1", counted=7))
    salon.execute(CountStock(actor_id=MANAGER, product_id="mask", counted=11))
    # A sale during the count moves the books and the shelf alike: not a variance.
    salon.execute(sale(prd("mask"), (CASH, 9_900)))
    (*_, finished, audited) = salon.execute(FinishStockTake(actor_id=MANAGER, reason="月盘"))
    assert finished.variances == (("sh1", -1),)  # type: ignore[attr-defined]
    assert audited.act is Permission.STOCK_TAKE  # type: ignore[attr-defined]
    assert (salon.state.stock.level("sh1"), salon.state.stock.level("mask")) == (7, 10)
    assert not salon.state.stock.take_id and not salon.state.stock.take_counts


def test_a_members_products_kept_at_the_store_are_tracked_apart_from_stock() -> None:
    salon, _ = _salon()
    m = member(salon)
    salon.execute(StoreDeposit(actor_id=DESK, member_id=m, product_id="sh1", quantity=2))
    salon.execute(TakeDeposit(actor_id=DESK, member_id=m, product_id="sh1", quantity=1))
    assert salon.state.stock.deposits == {m: {"sh1": 1}}
    salon.execute(TakeDeposit(actor_id=DESK, member_id=m, product_id="sh1", quantity=1))
    assert salon.state.stock.deposits == {}
    assert salon.state.stock.level("sh1") == 0


OPS = st.lists(st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(["sh1", "mask"]), st.integers(1, 9)),
    st.tuples(st.just("sell"), st.sampled_from(["sh1", "mask"]), st.integers(1, 3)),
    st.tuples(st.just("cut"), st.just(""), st.just(1)),
    st.tuples(st.just("refund"), st.just(""), st.integers(0, 20)),
    st.tuples(st.just("transfer"), st.sampled_from(["sh1", "mask"]), st.integers(1, 9)),
    st.tuples(st.just("write_off"), st.sampled_from(["sh1", "mask"]), st.integers(1, 5)),
    st.tuples(st.just("take"), st.sampled_from(["sh1", "mask"]), st.integers(0, 12)),
), max_size=30)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_every_level_is_the_sum_of_its_movements(ops: list[tuple[str, str, int]]) -> None:
    salon, _ = _salon()
    prices = {"sh1": 16_800, "mask": 9_900}
    tickets: list[str] = []
    for op, product, n in ops:
        try:
            if op == "receive":
                salon.execute(ReceiveStock(actor_id=MANAGER, lines=((product, n),)))
            elif op == "sell":
                tickets.append(paid(salon.execute(sale(prd(product, quantity=n),
                                                       (CASH, prices[product] * n)))).ticket_id)
            elif op == "cut":
                tickets.append(paid(salon.execute(sale(svc("cut"), (CASH, 12_800)))).ticket_id)
            elif op == "refund" and tickets:
                salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=tickets[n % len(tickets)],
                                           reason="x"))
            elif op == "transfer":
                salon.execute(TransferStock(actor_id=MANAGER, to_store_id="store-002",
                                            lines=((product, n),)))
            elif op == "write_off":
                salon.execute(AdjustStock(actor_id=MANAGER, product_id=product, quantity=n,
                                          kind=MovementKind.WRITE_OFF, reason="x"))
            elif op == "take":
                salon.execute(StartStockTake(actor_id=MANAGER))
                salon.execute(CountStock(actor_id=MANAGER, product_id=product, counted=n))
                salon.execute(FinishStockTake(actor_id=MANAGER, reason="x"))
                assert salon.state.stock.level(product) == n
        except DomainError:
            pass
        sums: dict[str, int] = {}
        for moved in _moves(salon):
            sums[moved.product_id] = sums.get(moved.product_id, 0) + moved.delta
        assert {p: v for p, v in salon.state.stock.levels.items()} == sums


def test_a_refund_of_a_product_taken_off_the_price_list_still_puts_it_back() -> None:
    salon, _ = _salon()
    salon.execute(ReceiveStock(actor_id=MANAGER, lines=(("sh1", 3),)))
    ticket = paid(salon.execute(sale(prd("sh1"), (CASH, 16_800))))
    salon.execute(PublishPriceList(actor_id="hq", version=3, services=SERVICES,
                                   products=tuple(p for p in PRODUCTS if p.product_id != "sh1"),
                                   plans=()))
    salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id, reason="退货"))
    assert salon.state.stock.level("sh1") == 3
