"""The port to the store's sales history, where the books read back sales that left memory.

The ticket book keeps two weeks of tickets and the commission book no recharge at all
once a history is attached (the edge store attaches its ``SalesHistory``); a refund of
an older ticket, or of any recharge, reads the sale's events back through this port.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from salon.events import Event

__all__ = ["SalesArchive"]


class SalesArchive(Protocol):
    """The store's sales history, by sale id."""

    def events_of(self, sale_id: str) -> Sequence[Event]:
        """The sale's archived events in commit order (none: unknown): a ticket's TicketPaid
        and TicketRefunded, a recharge's CommissionEarned and CommissionReversed."""
        ...
