"""State is rebuilt by applying events: replaying a store's history gives the same state."""

from __future__ import annotations

import io
from pathlib import Path

from edge_store.records import events_of
from hub.demo import _Day
from salon.events import EVENT_TYPES, Event
from salon.state import SalonState


def _demo_day(path: Path) -> tuple[_Day, list[Event]]:
    day = _Day(io.StringIO(), "zh_CN", path)
    assert day.run() == 0
    history = [e for r in day.salon.records_after(0, limit=10**6) for e in events_of(r)]
    day.salon.close()
    return day, history


def test_replaying_the_demo_day_rebuilds_the_same_state(tmp_path: Path) -> None:
    day, history = _demo_day(tmp_path)
    rebuilt = SalonState()
    rebuilt.apply_all(history)
    assert rebuilt == day.salon.state
    assert rebuilt.accounts.liability_fen() == day.salon.state.accounts.liability_fen() > 0


def test_every_event_carries_a_unique_id_the_store_the_actor_and_an_aware_time(
    tmp_path: Path,
) -> None:
    _, history = _demo_day(tmp_path)
    assert len({e.meta.event_id for e in history}) == len(history)
    for event in history:
        assert event.meta.store_id == "store-demo-001"
        assert event.meta.actor_id
        assert event.meta.at.tzinfo is not None
        assert EVENT_TYPES[type(event).__name__] is type(event)
