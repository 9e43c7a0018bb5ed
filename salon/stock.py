"""Stock (库存): levels per product moved only by movements, each one an event.

Every change of a product's level is a ``StockMoved`` with its kind and reason: a sale
or its refund (added to the checkout's and the refund's own events), the backbar
products a service uses (``Service.backbar``), receiving goods (against a purchase
order, partly or whole, or ad hoc), a transfer to another store of the chain, a
write-off or an overage (报损 / 报溢, with a reason), and a stock-take's adjustment
(盘点, a manager's act). So a level is the sum of its movements, always. A movement that
takes a product below its low-stock threshold (``Product.low_stock_at``) from at or
above it raises ``LowStockAlerted`` in the same commit, for HQ and the status light.
Selling more than the books hold is not refused (the shelf is the truth; the next
stock-take sets the books right); the level goes negative and the alert is raised.

Products a customer bought and leaves at the store (寄存) are kept per member apart from
the stock: they were sold, so they are not on hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from salon.catalog import ItemKind
from salon.commands import Command, handles
from salon.context import Context
from salon.errors import DomainError, ErrorCode, invalid_input
from salon.events import Event, EventMeta
from salon.staff import Permission, audit, require

if TYPE_CHECKING:
    from salon.state import SalonState
    from salon.tickets import LineSettlement, TicketPaid

__all__ = [
    "AdjustStock",
    "CountStock",
    "CreatePurchaseOrder",
    "DepositChanged",
    "FinishStockTake",
    "LowStockAlerted",
    "MovementKind",
    "POStatus",
    "PurchaseOrder",
    "PurchaseOrderChanged",
    "ReceiveStock",
    "StartStockTake",
    "StockBook",
    "StockCounted",
    "StockMoved",
    "StockTakeFinished",
    "StockTakeStarted",
    "StoreDeposit",
    "SubmitPurchaseOrder",
    "TakeDeposit",
    "TransferStock",
    "low_stock",
    "refund_movements",
    "sale_movements",
]


class MovementKind(StrEnum):
    SALE = "sale"
    REFUND = "refund"
    BACKBAR = "backbar"  # 院用: used by a service
    RECEIVE = "receive"  # 入库
    TRANSFER_OUT = "transfer_out"  # 调拨
    WRITE_OFF = "write_off"  # 报损
    OVERAGE = "overage"  # 报溢
    STOCKTAKE = "stocktake"  # 盘点调整


class POStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    po_id: str
    supplier: str
    lines: tuple[tuple[str, int], ...]
    """(product id, quantity ordered)."""
    status: POStatus = POStatus.DRAFT
    received: tuple[tuple[str, int], ...] = ()
    """(product id, quantity received so far)."""

    def outstanding(self) -> dict[str, int]:
        got = dict(self.received)
        return {p: q - got.get(p, 0) for p, q in self.lines if q - got.get(p, 0) > 0}


@dataclass(frozen=True, kw_only=True)
class StockMoved(Event):
    product_id: str
    delta: int
    kind: MovementKind
    reason: str = ""
    reference: str = ""
    """The ticket, purchase order, stock-take or store it belongs to."""


@dataclass(frozen=True, kw_only=True)
class LowStockAlerted(Event):
    product_id: str
    level: int
    threshold: int


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderChanged(Event):
    order: PurchaseOrder


@dataclass(frozen=True, kw_only=True)
class StockTakeStarted(Event):
    take_id: str
    expected: tuple[tuple[str, int], ...]
    """The books' level of every stocked product when the count began (the count sheet)."""


@dataclass(frozen=True, kw_only=True)
class StockCounted(Event):
    take_id: str
    product_id: str
    counted: int


@dataclass(frozen=True, kw_only=True)
class StockTakeFinished(Event):
    take_id: str
    variances: tuple[tuple[str, int], ...]
    """(product, counted minus expected) of every counted product whose count differs."""


@dataclass(frozen=True, kw_only=True)
class DepositChanged(Event):
    """寄存: a member's product kept at the store, added (bought and left) or taken."""

    member_id: str
    product_id: str
    delta: int


@dataclass
class StockBook:
    levels: dict[str, int] = field(default_factory=dict)
    orders: dict[str, PurchaseOrder] = field(default_factory=dict)
    """Purchase orders not yet fully received."""
    take_id: str = ""
    """The stock-take under way ("": none)."""
    take_expected: dict[str, int] = field(default_factory=dict)
    """Its count sheet: the books' levels when the count began."""
    take_counts: dict[str, int] = field(default_factory=dict)
    """What was counted so far."""
    deposits: dict[str, dict[str, int]] = field(default_factory=dict)
    """Member → product → quantity they keep at the store."""

    def apply(self, event: Event) -> None:
        match event:
            case StockMoved():
                level = self.levels.get(event.product_id, 0) + event.delta
                self.levels[event.product_id] = level
            case PurchaseOrderChanged():
                if event.order.status is POStatus.RECEIVED:
                    self.orders.pop(event.order.po_id, None)
                else:
                    self.orders[event.order.po_id] = event.order
            case StockTakeStarted():
                self.take_id = event.take_id
                self.take_expected = dict(event.expected)
                self.take_counts = {}
            case StockCounted():
                self.take_counts[event.product_id] = event.counted
            case StockTakeFinished():
                self.take_id = ""
                self.take_expected = {}
                self.take_counts = {}
            case DepositChanged():
                held = self.deposits.setdefault(event.member_id, {})
                left = held.get(event.product_id, 0) + event.delta
                if left:
                    held[event.product_id] = left
                else:
                    held.pop(event.product_id, None)
                if not held:
                    del self.deposits[event.member_id]
            case _:
                pass

    def level(self, product_id: str) -> int:
        return self.levels.get(product_id, 0)


def low_stock(state: SalonState) -> list[str]:
    """The products on the price list below their low-stock threshold (for the light)."""
    return sorted(p.product_id for p in state.catalog.products.values()
                  if p.low_stock_at and state.stock.level(p.product_id) < p.low_stock_at)


# ---------------------------------------------------------------- movements


Meta = Callable[[], EventMeta]
"""A fresh event meta (its own event id) of the command's actor and time, per event."""


def _movements(state: SalonState, meta: Meta, moves: Iterable[tuple[str, int]],
               kind: MovementKind, reason: str = "", reference: str = "") -> list[Event]:
    """``StockMoved`` per (product, delta), in order, and ``LowStockAlerted`` for each
    product that one of them takes from at or above its threshold to below it."""
    out: list[Event] = []
    levels: dict[str, int] = {}
    for product_id, delta in moves:
        if not delta:
            continue
        before = levels.get(product_id, state.stock.level(product_id))
        after = before + delta
        levels[product_id] = after
        out.append(StockMoved(meta=meta(), product_id=product_id, delta=delta, kind=kind,
                              reason=reason, reference=reference))
        # A product HQ has since taken off the price list still moves (a refund of an old
        # sale): it just has no threshold any more.
        product = state.catalog.products.get(product_id)
        threshold = product.low_stock_at if product is not None else 0
        if threshold and before >= threshold > after:
            out.append(LowStockAlerted(meta=meta(), product_id=product_id, level=after,
                                       threshold=threshold))
    return out


def _line_moves(state: SalonState, lines: Iterable[LineSettlement], sign: int,
                ) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(product moves, backbar moves) of ticket lines: a product line moves its quantity, a
    service line the backbar products its service uses."""
    products, backbar = [], []
    for s in lines:
        line = s.line
        if line.kind is ItemKind.PRODUCT:
            products.append((line.item_id, sign * line.quantity))
        elif line.kind is ItemKind.SERVICE:
            service = state.catalog.services.get(line.item_id)
            for product_id, per in service.backbar if service is not None else ():
                if product_id in state.catalog.products:
                    backbar.append((product_id, sign * per * line.quantity))
    return products, backbar


def sale_movements(state: SalonState, meta: Meta, paid: TicketPaid) -> list[Event]:
    """The stock a checkout moves (added to its events)."""
    products, backbar = _line_moves(state, paid.lines, -1)
    return (_movements(state, meta, products, MovementKind.SALE, reference=paid.ticket_id)
            + _movements(state, meta, backbar, MovementKind.BACKBAR, reference=paid.ticket_id))


def refund_movements(state: SalonState, meta: Meta, ticket_id: str,
                     lines: Sequence[LineSettlement]) -> list[Event]:
    """The stock a refund of ``lines`` moves back (a product returned goes back on the
    shelf; the backbar a service used is not given back)."""
    products, _ = _line_moves(state, lines, 1)
    return _movements(state, meta, products, MovementKind.REFUND, reference=ticket_id)


# ---------------------------------------------------------------- commands


@dataclass(frozen=True, kw_only=True)
class CreatePurchaseOrder(Command):
    supplier: str
    lines: tuple[tuple[str, int], ...]


@dataclass(frozen=True, kw_only=True)
class SubmitPurchaseOrder(Command):
    po_id: str


@dataclass(frozen=True, kw_only=True)
class ReceiveStock(Command):
    lines: tuple[tuple[str, int], ...]
    po_id: str = ""
    """The purchase order received against (partly or whole); "" for goods without one."""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class TransferStock(Command):
    to_store_id: str
    lines: tuple[tuple[str, int], ...]


@dataclass(frozen=True, kw_only=True)
class AdjustStock(Command):
    """报损 (WRITE_OFF, a quantity lost) or 报溢 (OVERAGE, a quantity found), with a reason."""

    product_id: str
    quantity: int
    kind: MovementKind
    reason: str


@dataclass(frozen=True, kw_only=True)
class StartStockTake(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class CountStock(Command):
    product_id: str
    counted: int


@dataclass(frozen=True, kw_only=True)
class FinishStockTake(Command):
    reason: str


@dataclass(frozen=True, kw_only=True)
class StoreDeposit(Command):
    member_id: str
    product_id: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class TakeDeposit(Command):
    member_id: str
    product_id: str
    quantity: int


def _metas(ctx: Context, actor_id: str) -> Meta:
    at = ctx.clock()
    return lambda: ctx.meta(actor_id, at)


def _checked_lines(state: SalonState, lines: Sequence[tuple[str, int]]) -> None:
    if not lines:
        raise invalid_input("lines", "no product")
    seen = set()
    for product_id, quantity in lines:
        state.catalog.product(product_id)
        if quantity <= 0:
            raise DomainError(ErrorCode.NEGATIVE_QUANTITY, {"field": product_id})
        if product_id in seen:
            raise invalid_input("lines", f"{product_id} twice")
        seen.add(product_id)


def _order(state: SalonState, po_id: str) -> PurchaseOrder:
    found = state.stock.orders.get(po_id)
    if found is None:
        raise DomainError(ErrorCode.UNKNOWN_PURCHASE_ORDER, {"po_id": po_id})
    return found


@handles(CreatePurchaseOrder)
def create_purchase_order(
    state: SalonState, cmd: CreatePurchaseOrder, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_STOCK)
    _checked_lines(state, cmd.lines)
    order = PurchaseOrder(ctx.new_id(), cmd.supplier.strip(), tuple(cmd.lines))
    return [PurchaseOrderChanged(meta=ctx.meta(cmd.actor_id), order=order)]


@handles(SubmitPurchaseOrder)
def submit_purchase_order(
    state: SalonState, cmd: SubmitPurchaseOrder, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_STOCK)
    order = _order(state, cmd.po_id)
    if order.status is not POStatus.DRAFT:
        raise DomainError(ErrorCode.PURCHASE_ORDER_STATUS,
                          {"po_id": order.po_id, "status": order.status.value})
    return [PurchaseOrderChanged(meta=ctx.meta(cmd.actor_id),
                                 order=replace(order, status=POStatus.SUBMITTED))]


@handles(ReceiveStock)
def receive_stock(state: SalonState, cmd: ReceiveStock, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_STOCK)
    _checked_lines(state, cmd.lines)
    meta = _metas(ctx, cmd.actor_id)
    if not cmd.po_id:
        return _movements(state, meta, cmd.lines, MovementKind.RECEIVE, cmd.reason.strip())
    order = _order(state, cmd.po_id)
    if order.status is not POStatus.SUBMITTED:
        raise DomainError(ErrorCode.PURCHASE_ORDER_STATUS,
                          {"po_id": order.po_id, "status": order.status.value})
    outstanding = order.outstanding()
    for product_id, quantity in cmd.lines:
        if quantity > outstanding.get(product_id, 0):
            raise DomainError(ErrorCode.RECEIVE_OVER_ORDER, {
                "product_id": product_id, "outstanding": outstanding.get(product_id, 0)})
    got = dict(order.received)
    for product_id, quantity in cmd.lines:
        got[product_id] = got.get(product_id, 0) + quantity
    received = replace(order, received=tuple(sorted(got.items())))
    if not received.outstanding():
        received = replace(received, status=POStatus.RECEIVED)
    return [*_movements(state, meta, cmd.lines, MovementKind.RECEIVE, cmd.reason.strip(),
                        order.po_id),
            PurchaseOrderChanged(meta=meta(), order=received)]


@handles(TransferStock)
def transfer_stock(state: SalonState, cmd: TransferStock, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_STOCK)
    _checked_lines(state, cmd.lines)
    to_store = cmd.to_store_id.strip()
    if not to_store or to_store == ctx.store_id:
        raise invalid_input("to_store_id", "another store of the chain")
    for product_id, quantity in cmd.lines:
        if quantity > state.stock.level(product_id):
            raise DomainError(ErrorCode.INSUFFICIENT_STOCK, {
                "product_id": product_id, "level": state.stock.level(product_id)})
    return _movements(state, _metas(ctx, cmd.actor_id), [(p, -q) for p, q in cmd.lines],
                      MovementKind.TRANSFER_OUT, reference=to_store)


@handles(AdjustStock)
def adjust_stock(state: SalonState, cmd: AdjustStock, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_STOCK)
    state.catalog.product(cmd.product_id)
    if cmd.kind not in (MovementKind.WRITE_OFF, MovementKind.OVERAGE):
        raise invalid_input("kind", "a write-off or an overage")
    if cmd.quantity <= 0:
        raise DomainError(ErrorCode.NEGATIVE_QUANTITY, {"field": "quantity"})
    reason = cmd.reason.strip()
    if not reason:
        raise DomainError(ErrorCode.REASON_REQUIRED, {"act": cmd.kind.value})
    delta = -cmd.quantity if cmd.kind is MovementKind.WRITE_OFF else cmd.quantity
    return _movements(state, _metas(ctx, cmd.actor_id), [(cmd.product_id, delta)], cmd.kind,
                      reason)


@handles(StartStockTake)
def start_stock_take(state: SalonState, cmd: StartStockTake, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_STOCK)
    if state.stock.take_id:
        raise DomainError(ErrorCode.STOCK_TAKE_OPEN, {"take_id": state.stock.take_id})
    expected = tuple(sorted((p, state.stock.level(p)) for p in state.catalog.products))
    return [StockTakeStarted(meta=ctx.meta(cmd.actor_id), take_id=ctx.new_id(),
                             expected=expected)]


@handles(CountStock)
def count_stock(state: SalonState, cmd: CountStock, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_STOCK)
    if not state.stock.take_id:
        raise DomainError(ErrorCode.NO_STOCK_TAKE)
    state.catalog.product(cmd.product_id)
    if cmd.counted < 0:
        raise DomainError(ErrorCode.NEGATIVE_QUANTITY, {"field": "counted"})
    return [StockCounted(meta=ctx.meta(cmd.actor_id), take_id=state.stock.take_id,
                         product_id=cmd.product_id, counted=cmd.counted)]


@handles(FinishStockTake)
def finish_stock_take(state: SalonState, cmd: FinishStockTake, ctx: Context) -> Sequence[Event]:
    """Set the books to the counts: each variance (counted minus the count sheet's level)
    is one movement; sales during the count moved both the books and the shelf."""
    require(state.staff, cmd.actor_id, Permission.STOCK_TAKE)
    if not state.stock.take_id:
        raise DomainError(ErrorCode.NO_STOCK_TAKE)
    take_id = state.stock.take_id
    expected, counts = state.stock.take_expected, state.stock.take_counts
    reason = cmd.reason.strip()
    if not reason:
        raise DomainError(ErrorCode.REASON_REQUIRED, {"act": Permission.STOCK_TAKE.value})
    variances = tuple(sorted((p, c - expected.get(p, 0)) for p, c in counts.items()
                             if c != expected.get(p, 0)))
    meta = _metas(ctx, cmd.actor_id)
    return [
        *_movements(state, meta, variances, MovementKind.STOCKTAKE, reason, take_id),
        StockTakeFinished(meta=meta(), take_id=take_id, variances=variances),
        audit(meta(), Permission.STOCK_TAKE, take_id, reason,
              detail=" ".join(f"{p}:{v:+d}" for p, v in variances)),
    ]


@handles(StoreDeposit)
def store_deposit(state: SalonState, cmd: StoreDeposit, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    state.members.get(cmd.member_id)
    state.catalog.product(cmd.product_id)
    if cmd.quantity <= 0:
        raise DomainError(ErrorCode.NEGATIVE_QUANTITY, {"field": "quantity"})
    return [DepositChanged(meta=ctx.meta(cmd.actor_id), member_id=cmd.member_id,
                           product_id=cmd.product_id, delta=cmd.quantity)]


@handles(TakeDeposit)
def take_deposit(state: SalonState, cmd: TakeDeposit, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    held = state.stock.deposits.get(cmd.member_id, {}).get(cmd.product_id, 0)
    if cmd.quantity <= 0:
        raise DomainError(ErrorCode.NEGATIVE_QUANTITY, {"field": "quantity"})
    if cmd.quantity > held:
        raise DomainError(ErrorCode.DEPOSIT_SHORT, {"product_id": cmd.product_id, "held": held})
    return [DepositChanged(meta=ctx.meta(cmd.actor_id), member_id=cmd.member_id,
                           product_id=cmd.product_id, delta=-cmd.quantity)]

