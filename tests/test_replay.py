"""State is rebuilt by applying events: replaying a store's history gives the same state."""

from __future__ import annotations

import io

from hub.demo import _Day
from salon.events import EVENT_TYPES
from salon.state import SalonState


def test_replaying_the_demo_day_rebuilds_the_same_state() -> None:
    day = _Day(io.StringIO(), "zh_CN")
    assert day.run() == 0
    rebuilt = SalonState()
    rebuilt.apply_all(day.salon.history)
    assert rebuilt == day.salon.state
    assert rebuilt.accounts.liability_fen() == day.salon.state.accounts.liability_fen() > 0


def test_every_event_carries_a_unique_id_the_store_the_actor_and_an_aware_time() -> None:
    day = _Day(io.StringIO(), "zh_CN")
    day.run()
    history = day.salon.history
    assert len({e.meta.event_id for e in history}) == len(history)
    for event in history:
        assert event.meta.store_id == "store-demo-001"
        assert event.meta.actor_id
        assert event.meta.at.tzinfo is not None
        assert EVENT_TYPES[type(event).__name__] is type(event)
