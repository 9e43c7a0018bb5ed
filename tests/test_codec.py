"""The journal's codec: events by field name, older records read with defaults, bad ones refused."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from edge_store import codec
from edge_store.codec import CodecError, decode_event, encode_event
from salon.events import EventMeta
from salon.points import PointsRestored, PointsReversed
from salon.points_ledger import PointsDraw

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
META = EventMeta("ev-1", "store-1", "desk", AT)


def test_an_event_reads_back_equal_to_what_was_written() -> None:
    event = PointsReversed(meta=META, member_id="m1", source_id="t1",
                           draws=(PointsDraw("l1", 30), PointsDraw("l2", 5)), debt_points=7,
                           expired_points=2)
    body = encode_event(event)
    assert body["type"] == "PointsReversed" and body["draws"][0] == {"lot_id": "l1", "points": 30}
    assert decode_event(body) == event


def test_a_record_written_before_a_field_existed_reads_with_its_default() -> None:
    body = encode_event(PointsRestored(meta=META, member_id="m1", ticket_id="t1",
                                       draws=(PointsDraw("l1", 3),), debt_repaid=3))
    del body["debt_repaid"]
    assert decode_event(body).debt_repaid == 0  # type: ignore[attr-defined]


def test_a_record_without_a_field_that_has_no_default_is_refused_by_name() -> None:
    body = encode_event(PointsRestored(meta=META, member_id="m1", ticket_id="t1", draws=()))
    del body["member_id"]
    with pytest.raises(CodecError, match="PointsRestored lacks the field 'member_id'"):
        decode_event(body)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("member_id", 7, "expected str"),
    ("draws", {"lot_id": "l1"}, "expected an array"),
    ("meta", "ev-1", "expected an object"),
])
def test_a_value_of_the_wrong_kind_is_refused(field: str, value: object, message: str) -> None:
    body = encode_event(PointsRestored(meta=META, member_id="m1", ticket_id="t1", draws=()))
    body[field] = value
    with pytest.raises(CodecError, match=message):
        decode_event(body)


def test_a_time_without_a_zone_is_refused() -> None:
    body = encode_event(PointsRestored(meta=META, member_id="m1", ticket_id="t1", draws=()))
    body["meta"]["at"] = "2026-11-23T02:00:00"
    with pytest.raises(CodecError, match="without a zone"):
        decode_event(body)


@dataclasses.dataclass(frozen=True, slots=True)
class _Slotted:
    name: str
    n: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class _SlottedChild(_Slotted):
    extra: int = 1


@pytest.mark.parametrize("cls", [_Slotted, _SlottedChild])
def test_a_slotted_record_is_made_without_its_init_yet_is_whole_and_frozen(cls: type) -> None:
    # _Slotted is made as its twin, then given its class; _SlottedChild (a base with slots
    # of its own) is made through its slot descriptors.
    assert (codec._twin(cls) is not None) == (cls is _Slotted)
    made = codec.decode({"name": "a", "n": 2}, cls)
    assert type(made) is cls
    assert made == cls("a", 2) and hash(made) == hash(cls("a", 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.n = 3  # type: ignore[misc]
    assert not hasattr(made, "__dict__")
