"""An in-memory store: decide a command, apply its events. The edge store wraps the same steps."""

from __future__ import annotations

# Importing the modules that define commands registers their handlers.
from salon import (  # noqa: F401
    admin,
    appointments,
    checkout,
    commissions,
    coupons,
    members,
    package_cards,
    points,
    queue,
    refunds,
    reminders,
    sales,
    schedules,
    shifts,
    stock,
    stored_value,
    tickets,
    tiers,
)
from salon.commands import Command, outcome
from salon.context import Context
from salon.errors import DomainError
from salon.events import Event
from salon.state import SalonState

__all__ = ["Salon"]


class Salon:
    """Holds a state and its event history; ``execute`` is all-or-nothing."""

    def __init__(self, ctx: Context, state: SalonState | None = None) -> None:
        self.ctx = ctx
        self.state = state if state is not None else SalonState()
        self.history: list[Event] = []

    def execute(self, command: Command) -> tuple[Event, ...]:
        events, refusal = outcome(self.state, command, self.ctx)
        self._commit(events)
        if refusal is not None:
            raise refusal
        return events

    def record_refusal(self, err: DomainError) -> None:
        """Commit what a refusal must leave behind (a failed PIN try) without its command."""
        self._commit(err.record)

    def _commit(self, events: tuple[Event, ...]) -> None:
        self.state.apply_all(events)
        self.history.extend(events)
