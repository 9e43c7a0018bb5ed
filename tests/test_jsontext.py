"""The commit's JSON text straight from the dataclasses: byte for byte the two-step path's."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_store.codec import CodecError, decode_event, encode, encode_event
from edge_store.jsontext import event_json, text_encoder
from edge_store.records import event_text, events_of
from salon.commissions import CommissionEarned, CommissionEntry
from salon.config import CommissionTarget
from salon.events import EVENT_TYPES, Event, EventMeta
from salon.points import PointsReversed
from salon.points_ledger import PointsDraw
from tests.store_support import busy_store, open_store, state_json
from tests.test_replay import _demo_day

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
META = EventMeta("ev-1", "store-1", "desk", AT)

# Times with a zone, as every event has; text of any Unicode, the CJK of names included.
st.register_type_strategy(datetime, st.datetimes(timezones=st.just(UTC)))


def _two_step(event: Event) -> str:
    return event_text(encode_event(event))


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_event_type_is_written_as_the_two_step_path_writes_it(
    name: str, data: st.DataObject
) -> None:
    cls = EVENT_TYPES[name]
    assert "type" not in {f.name for f in dataclasses.fields(cls)}  # the tag's own key
    event = data.draw(st.from_type(cls))
    text = event_json(event)
    assert text == _two_step(event)


def test_the_demo_days_events_are_written_as_before_and_read_back_equal(tmp_path: Path) -> None:
    day, history = _demo_day(tmp_path)
    day.salon.close()
    assert len({type(e) for e in history}) >= 10
    for event in history:
        text = event_json(event)
        assert text == _two_step(event)
        assert decode_event(json.loads(text)) == event


def test_a_store_written_with_it_replays_to_the_same_state(tmp_path: Path) -> None:
    with busy_store(tmp_path) as (store, _):
        before = state_json(store.state)
        records = list(store.records_after(0, limit=10**6))
    assert all(event_json(e) for r in records for e in events_of(r))
    again = open_store(tmp_path)
    assert state_json(again.state) == before
    again.close()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("member_id", None, "expected text, found NoneType"),
    ("debt_points", True, "expected a whole number, found bool"),
    ("debt_points", "7", "expected a whole number, found str"),
])
def test_a_value_that_does_not_fit_its_field_is_refused_before_it_is_written(
    field: str, value: object, message: str
) -> None:
    event = PointsReversed(meta=META, member_id="m1", source_id="t1",
                           draws=(PointsDraw("l1", 30),), debt_points=7)
    bad = dataclasses.replace(event, **{field: value})
    with pytest.raises(CodecError, match=message):
        event_json(bad)


def test_an_enum_field_takes_its_members_only() -> None:
    entry = CommissionEntry("s1", 1, 100, 10, "r1", 1, False, CommissionTarget.RECHARGE)
    event = CommissionEarned(meta=META, source_id="t1", entries=(entry,))
    assert event_json(event) == event_text(encode_event(event))
    assert '"target":"recharge"' in event_json(event)
    bad = dataclasses.replace(event, entries=(dataclasses.replace(entry, target="recharge"),))
    with pytest.raises(CodecError, match="has no attribute 'value'"):
        event_json(bad)  # its text, not the member
    assert text_encoder(CommissionTarget)(CommissionTarget.PRODUCT) == '"product"'


def test_a_time_keeps_its_zone_and_microseconds() -> None:
    at = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC) + timedelta(hours=8)
    event = PointsReversed(meta=dataclasses.replace(META, at=at), member_id="会员-1",
                           source_id='t"1\\', draws=(), debt_points=0)
    assert event_json(event) == _two_step(event)
    assert '"at":"2026-11-23T18:00:00.123456+00:00"' in event_json(event)


@dataclasses.dataclass(frozen=True)
class _Tree:
    name: str
    kids: tuple[_Tree, ...] = ()
    parent: _Tree | None = None


def test_a_type_that_holds_itself_is_written_to_any_depth() -> None:
    tree = _Tree("a", (_Tree("b", (_Tree("c"),)), _Tree("d")), parent=_Tree("root"))
    assert text_encoder(_Tree)(tree) == event_text(encode(tree, _Tree))
    assert json.loads(text_encoder(_Tree)(tree))["kids"][0]["kids"][0]["name"] == "c"
