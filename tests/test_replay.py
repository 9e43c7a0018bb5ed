"""State is rebuilt by applying events: replaying a store's history gives the same state."""

from __future__ import annotations

import io
from pathlib import Path

from edge_store.projections import Projections
from edge_store.records import events_of
from hub.demo import _Day
from salon.events import EVENT_TYPES, Event
from salon.state import SalonState
from salon.stored_value import StoredValueRecharged


def _demo_day(path: Path) -> tuple[_Day, list[Event]]:
    day = _Day(io.StringIO(), "zh_CN", path)
    assert day.run() == 0
    history = [e for r in day.salon.records_after(0, limit=10**6) for e in events_of(r)]
    return day, history  # the store is still open: the caller closes it


def _recharge_id(history: list[Event]) -> str:
    (recharge,) = [e for e in history if isinstance(e, StoredValueRecharged)]
    return recharge.recharge_id


def test_replaying_the_demo_day_rebuilds_the_same_state(tmp_path: Path) -> None:
    day, history = _demo_day(tmp_path)
    # Wired to the store's sales history as the store's own state is: with it, the books
    # keep less in memory (a recharge's commission is read back from the history).
    rebuilt = day.salon.new_state()
    rebuilt.apply_all(history)
    assert rebuilt == day.salon.state
    plain = SalonState()
    plain.apply_all(history)
    recharge = _recharge_id(history)
    assert plain.commissions.entries_of_source(recharge) == (
        rebuilt.commissions.entries_of_source(recharge)) != ()
    day.salon.close()
    assert rebuilt.accounts.liability_fen() == day.salon.state.accounts.liability_fen() > 0


def test_every_event_carries_a_unique_id_the_store_the_actor_and_an_aware_time(
    tmp_path: Path,
) -> None:
    day, history = _demo_day(tmp_path)
    day.salon.close()
    assert len({e.meta.event_id for e in history}) == len(history)
    for event in history:
        assert event.meta.store_id == "store-demo-001"
        assert event.meta.actor_id
        assert event.meta.at.tzinfo is not None
        assert EVENT_TYPES[type(event).__name__] is type(event)


def test_the_documents_kept_through_the_demo_day_are_those_a_rebuild_makes(
    tmp_path: Path,
) -> None:
    day, history = _demo_day(tmp_path)
    store = day.salon
    # Events of the kinds of document the demo makes: members, cards, the catalog, staff.
    assert {"MemberRegistered", "PackageCardSold", "PriceListPublished",
            "StaffHired"} <= {e.type_name for e in history}
    rebuilt = Projections()
    rebuilt.rebuild(store.state, store.ctx.clock())
    assert store.projections.dump() == rebuilt.dump()
    store.close()
