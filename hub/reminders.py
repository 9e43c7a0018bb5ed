"""Sending reminders and notices through a ``Notifier`` (SMS, WeChat template messages).

``ReminderService.tick`` asks the domain what is due (``salon.reminders``), renders each
message from the i18n catalog (zh_CN or en, with the store's name, the time and the
services), hands it to the notifier with its key, and commits ``ReminderSent`` under
that key; a sent key is never due again, across restarts. A message the notifier
refuses (no network, the provider down) is not recorded and goes again at the next
tick. One window is left: a crash after the notifier took a message and before its
record was committed sends it again after the restart, with the same key, which a
provider that deduplicates by the caller's message id (the notifier's ``key``) drops;
the fake here does, as the test shows. Logs name the kind and the key, never a mobile
or a name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from lunardate import LunarDate

from edge_store.errors import StoreError
from edge_store.store import EdgeStore
from kiosk.i18n import Locale, text
from salon.errors import DomainError
from salon.money import format_fen
from salon.reminders import Due, RecordReminderSent, due_reminders
from salon.state import SalonState

__all__ = ["FakeNotifier", "Notifier", "NotifierError", "ReminderService", "solar_of_lunar"]

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
"""The actor of what the hub does by itself (a reminder's record)."""


class NotifierError(Exception):
    """The message was not taken (no network, the provider refused it)."""


class Notifier(Protocol):
    def send(self, mobile: str, message: str, *, key: str) -> None:
        """Send ``message`` to ``mobile``; ``key`` is the message's id for the provider's
        deduplication. Raises NotifierError if it was not taken."""


@dataclass
class FakeNotifier:
    """Records what it is given; like a provider, it delivers one message per key."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)
    """(key, mobile, message) of every call."""
    delivered: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Key → (mobile, message) of what reached a phone."""
    down: bool = False

    def send(self, mobile: str, message: str, *, key: str) -> None:
        if self.down:
            raise NotifierError("the fake provider is down")
        self.calls.append((key, mobile, message))
        self.delivered.setdefault(key, (mobile, message))


def solar_of_lunar(year: int, month: int, day: int) -> tuple[date, ...]:
    """The solar dates in ``year`` of lunar ``month``/``day`` (of the lunar year before or
    of this one); a day 30 in a month of 29 days is taken as its 29th."""
    out = []
    for lunar_year in (year - 1, year):
        for d in (day, day - 1) if day == 30 else (day,):
            try:
                solar = LunarDate(lunar_year, month, d).to_solar_date()
            except ValueError:
                continue
            if solar.year == year:
                out.append(solar)
            break
    return tuple(out)


def render(state: SalonState, due: Due, locale: Locale = "zh_CN") -> str:
    """The message of one reminder, from the catalog's templates."""
    store = state.config.store_name
    zone = state.config.checkout.zone()
    when = due.at.astimezone(zone).strftime("%m-%d %H:%M") if due.at is not None else ""
    services = "、".join(state.catalog.services[s].name for s in due.service_ids
                        if s in state.catalog.services)
    return text(f"reminder.{due.kind.value}", locale, store=store, name=due.name, time=when,
                services=services, balance=format_fen(due.amount_fen))


@dataclass
class ReminderService:
    store: EdgeStore
    notifier: Notifier
    locale: Locale = "zh_CN"

    def tick(self, now: datetime | None = None) -> list[str]:
        """Send what is due now; the keys sent."""
        at = now if now is not None else self.store.ctx.clock()
        due = self.store.read(lambda s: [(d, render(s, d, self.locale))
                                         for d in due_reminders(s, at, solar_of_lunar)])
        sent = []
        for reminder, message in due:
            try:
                self.notifier.send(reminder.mobile, message, key=reminder.key)
            except NotifierError as err:
                log.warning("reminder %s (%s) not sent, next tick: %s", reminder.kind.value,
                            reminder.key, err)
                continue
            try:
                self.store.execute(RecordReminderSent(
                    actor_id=SYSTEM_ACTOR, key=reminder.key, kind=reminder.kind,
                    member_id=reminder.member_id, subject_id=reminder.subject_id))
            except (StoreError, DomainError) as err:
                log.error("reminder %s (%s) sent but not recorded: %s", reminder.kind.value,
                          reminder.key, err)
                continue
            sent.append(reminder.key)
        return sent
