"""Serial framing and protocols as data: the frame decoder on bytes, the registry, the config."""

from __future__ import annotations

from functools import reduce
from operator import xor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.errors import DeviceError, DeviceErrorCode
from devices.ports import DeviceKind
from devices.serial_framing import (
    Checksum,
    DecoderCounters,
    FrameDecoder,
    Framing,
    PayloadEncoding,
)
from devices.serial_protocols import (
    PROTOCOL_KEYS,
    Parity,
    SerialRole,
    protocol,
    protocol_from_config,
)

STX, ETX = b"\x02", b"\x03"
EM4100 = protocol("stx-etx-hex").framing
BINARY_XOR = Framing(start=STX, end=ETX, checksum=Checksum.XOR, encoding=PayloadEncoding.HEX)
SUM8_TRAILER = Framing(
    start=b"\xaa\x55", end=b"\r\n", trailer=b"\x00", checksum=Checksum.SUM8,
    encoding=PayloadEncoding.DECIMAL, max_len=40,
)
ASCII_STX = Framing(start=STX, end=ETX, max_len=48)
LINES_CRLF = Framing(end=b"\r\n")
LINES_LF = Framing(end=b"\n", trailer=b"\r", encoding=PayloadEncoding.UTF8, max_len=80)


def frame(framing: Framing, payload: bytes) -> bytes:
    """A frame as a reader sends it, checksum computed here independently of the decoder."""
    if framing.checksum is Checksum.XOR:
        check = bytes([reduce(xor, payload, 0)])
    elif framing.checksum is Checksum.SUM8:
        check = bytes([sum(payload) % 256])
    elif framing.checksum is Checksum.HEX_XOR:
        check = b"%02X" % reduce(xor, bytes.fromhex(payload.decode()), 0)
    else:
        check = b""
    return framing.start + payload + check + framing.trailer + framing.end


def counters(**changed: int) -> DecoderCounters:
    return DecoderCounters(**changed)


# --- examples -------------------------------------------------------------------------


def test_em4100_frame_with_its_crlf_gives_the_ten_hex_digits() -> None:
    # 0A^1B^2C^3D^4E = 4E: the checksum as an ID-12 reader sends it.
    decoder = FrameDecoder(EM4100)
    assert decoder.feed(b"\x020A1B2C3D4E4E\r\n\x03") == [b"0A1B2C3D4E"]
    assert decoder.counters == counters(frames=1)


def test_em4100_frame_without_crlf_is_read_by_the_same_protocol() -> None:
    # RDM6300 modules send no CR LF before ETX.
    assert FrameDecoder(EM4100).feed(b"\x020A1B2C3D4E4E\x03") == [b"0A1B2C3D4E"]


def test_bad_checksum_is_dropped_and_counted_and_the_next_frame_still_read() -> None:
    decoder = FrameDecoder(EM4100)
    good = frame(EM4100, b"0A1B2C3D4E")
    assert decoder.feed(b"\x020A1B2C3D4F4E\r\n\x03" + good) == [b"0A1B2C3D4E"]
    assert decoder.counters == counters(frames=1, bad_checksums=1)


def test_bytes_outside_frames_are_counted_as_garbage() -> None:
    decoder = FrameDecoder(EM4100)
    good = frame(EM4100, b"0A1B2C3D4E")
    assert decoder.feed(b"\xff\x00ab" + good + b"\x03\r\n" + good) == [b"0A1B2C3D4E"] * 2
    assert decoder.counters == counters(frames=2, garbage_bytes=7)


def test_frame_cut_short_by_the_next_start_is_counted_truncated() -> None:
    decoder = FrameDecoder(EM4100)
    good = frame(EM4100, b"1122334455")
    assert decoder.feed(b"\x020A1B" + good) == [b"1122334455"]
    assert decoder.counters == counters(frames=1, truncated=1)


def test_noise_inside_a_frame_makes_it_malformed_not_a_read() -> None:
    decoder = FrameDecoder(EM4100)
    assert decoder.feed(b"\x020A1B\xfe2C3D4E4E\r\n\x03") == []
    assert decoder.counters == counters(malformed=1)


def test_overlong_frame_is_dropped_and_the_next_frame_read() -> None:
    decoder = FrameDecoder(EM4100)
    good = frame(EM4100, b"0A1B2C3D4E")
    assert decoder.feed(b"\x02" + b"1" * 40) == []
    assert decoder.counters.overlong == 1
    assert decoder.pending == 0
    assert decoder.feed(b"1" * 10 + good) == [b"0A1B2C3D4E"]
    assert decoder.counters == counters(frames=1, overlong=1, garbage_bytes=50)


def test_rest_of_an_overlong_line_is_not_read_as_a_new_line() -> None:
    decoder = FrameDecoder(LINES_CRLF)
    assert decoder.feed(b"7" * 100 + b"\r\n04A1B2C3\r\n") == [b"04A1B2C3"]
    assert decoder.counters == counters(frames=1, overlong=1)


def test_blank_lines_are_skipped() -> None:
    decoder = FrameDecoder(LINES_CRLF)
    assert decoder.feed(b"\r\n\r\n04A1B2C3\r\n\r\n") == [b"04A1B2C3"]
    assert decoder.counters == counters(frames=1, garbage_bytes=6)


def test_lf_protocol_with_cr_trailer_reads_lf_and_crlf_lines() -> None:
    decoder = FrameDecoder(LINES_LF)
    assert decoder.feed("会员券 A1\r\nB2\n".encode()) == ["会员券 A1".encode(), b"B2"]


def test_payload_must_be_of_its_encoding() -> None:
    decimal = Framing(end=b"\r", encoding=PayloadEncoding.DECIMAL)
    decoder = FrameDecoder(decimal)
    assert decoder.feed(b"0012345678\r00A2\r") == [b"0012345678"]
    assert decoder.counters == counters(frames=1, malformed=1)


def test_payload_must_have_the_fixed_length_where_the_protocol_has_one() -> None:
    decoder = FrameDecoder(EM4100)
    assert decoder.feed(frame(EM4100, b"0A1B2C3D")) == []  # 8 digits, EM4100 sends 10
    assert decoder.counters == counters(malformed=1)


def test_binary_checksum_equal_to_the_end_byte_still_ends_the_frame_right() -> None:
    # "03": 0x30 ^ 0x33 == 0x03 == ETX.
    assert frame(BINARY_XOR, b"03") == b"\x0203\x03\x03"
    decoder = FrameDecoder(BINARY_XOR)
    assert decoder.feed(frame(BINARY_XOR, b"03")) == [b"03"]
    assert decoder.counters == counters(frames=1)


def test_binary_checksum_equal_to_the_start_byte_still_ends_the_frame_right() -> None:
    # "02": 0x30 ^ 0x32 == 0x02 == STX.
    decoder = FrameDecoder(BINARY_XOR)
    assert decoder.feed(frame(BINARY_XOR, b"02") + frame(BINARY_XOR, b"1F")) == [b"02", b"1F"]


def test_bad_binary_checksum_followed_by_a_good_frame_counts_one_bad_checksum() -> None:
    decoder = FrameDecoder(BINARY_XOR)
    assert decoder.feed(b"\x0212\x00\x03" + frame(BINARY_XOR, b"AB")) == [b"AB"]
    assert decoder.counters == counters(frames=1, bad_checksums=1)


def test_sum8_checksum_with_a_two_byte_start() -> None:
    # "12": 0x31 + 0x32 = 0x63.
    assert FrameDecoder(SUM8_TRAILER).feed(b"\xaa\x5512\x63\x00\r\n") == [b"12"]
    assert FrameDecoder(SUM8_TRAILER).feed(b"\xaa\x5512\x64\x00\r\n") == []


def test_frame_older_than_its_timeout_is_dropped_and_its_rest_is_garbage() -> None:
    decoder = FrameDecoder(EM4100)  # frame_timeout 0.5 s
    good = frame(EM4100, b"0A1B2C3D4E")
    assert decoder.feed(good[:6], now=10.0) == []
    decoder.expire(10.4)
    assert decoder.pending == 5  # still waiting: within its timeout
    decoder.expire(10.6)
    assert decoder.feed(good[6:], now=10.6) == []
    assert decoder.counters == counters(expired=1, garbage_bytes=len(good) - 1)


def test_frame_fed_without_a_time_is_timed_from_the_next_expire() -> None:
    decoder = FrameDecoder(EM4100)
    decoder.feed(b"\x020A1B")
    decoder.expire(100.0)
    decoder.expire(100.5)
    assert decoder.counters.expired == 0
    decoder.expire(100.6)
    assert decoder.counters.expired == 1


def test_expiry_keeps_a_frame_that_began_after_the_stalled_one() -> None:
    decoder = FrameDecoder(EM4100)
    good = frame(EM4100, b"0A1B2C3D4E")
    decoder.feed(b"\x020A1B" + good[:4], now=0.0)
    decoder.expire(1.0)
    assert decoder.feed(good[4:], now=1.0) == [b"0A1B2C3D4E"]


def test_reset_drops_the_partial_frame_and_keeps_the_counters() -> None:
    decoder = FrameDecoder(EM4100)
    decoder.feed(b"xy\x020A1B")
    decoder.reset()
    assert decoder.pending == 0
    assert decoder.feed(b"2C3D4E4E\r\n\x03") == []
    assert decoder.counters.garbage_bytes == 2 + 11


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"end": b""}, "end", "empty"),
        ({"start": b"\r\n"}, "start", "conflict"),
        ({"max_len": 0}, "max_len", "out_of_range"),
        ({"max_len": 100_000}, "max_len", "out_of_range"),
        ({"payload_len": 33}, "payload_len", "out_of_range"),
        ({"payload_len": 0}, "payload_len", "out_of_range"),
        ({"frame_timeout": 0.0}, "frame_timeout", "out_of_range"),
        ({"frame_timeout": float("nan")}, "frame_timeout", "out_of_range"),
        ({"checksum": Checksum.HEX_XOR}, "checksum", "conflict"),
    ],
)
def test_inconsistent_framing_is_refused(changes: dict[str, object], field: str,
                                         reason: str) -> None:
    args: dict[str, object] = {"end": b"\r\n", "max_len": 32, **changes}
    with pytest.raises(DeviceError) as caught:
        Framing(**args)  # type: ignore[arg-type]
    assert caught.value.code is DeviceErrorCode.CONFIG_INVALID
    assert caught.value.params == {"field": field, "reason": reason}


# --- properties -------------------------------------------------------------------------

STX_FRAMINGS = [EM4100, BINARY_XOR, SUM8_TRAILER, ASCII_STX]
ALL_FRAMINGS = [*STX_FRAMINGS, LINES_CRLF, LINES_LF]

_ALPHABETS = {
    PayloadEncoding.HEX: "0123456789ABCDEFabcdef",
    PayloadEncoding.DECIMAL: "0123456789",
    PayloadEncoding.ASCII: "".join(map(chr, range(0x20, 0x7F))),
}


@st.composite
def payloads(draw: st.DrawFn, framing: Framing) -> bytes:
    if framing.encoding is PayloadEncoding.UTF8:
        printable = st.characters(categories=["L", "N", "P"], include_characters=" ")
        text = draw(st.text(printable, min_size=1, max_size=framing.max_len // 4))
        return text.encode()
    alphabet = _ALPHABETS[framing.encoding]
    if framing.payload_len is not None:
        return draw(st.text(alphabet, min_size=framing.payload_len,
                            max_size=framing.payload_len)).encode()
    room = framing.max_len - framing.checksum.width - len(framing.trailer)
    if framing.checksum is Checksum.HEX_XOR:
        pairs = draw(st.integers(1, room // 2))
        return draw(st.text(alphabet, min_size=2 * pairs, max_size=2 * pairs)).encode()
    return draw(st.text(alphabet, min_size=1, max_size=room)).encode()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def feed_pieces(decoder: FrameDecoder, pieces: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for piece in pieces:
        out += decoder.feed(piece)
    return out


@given(data=st.data(), framing=st.sampled_from(STX_FRAMINGS))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_valid_frames_split_anywhere_among_garbage_and_cut_short_frames_yield_their_payloads(
    data: st.DataObject, framing: Framing
) -> None:
    sent = data.draw(st.lists(payloads(framing), max_size=6))
    garbage = st.binary(max_size=12).map(lambda b: b.replace(framing.start[:1], b""))
    # Frames cut short (start and some payload, no end) right before a whole one.
    cut_short = payloads(framing).flatmap(
        lambda p: st.integers(0, len(p) - 1).map(lambda k: framing.start + p[:k])
    )
    stream = data.draw(garbage)
    for payload in sent:
        stream += b"".join(data.draw(st.lists(cut_short, max_size=2)))
        stream += frame(framing, payload) + data.draw(garbage)
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=20))
    decoder = FrameDecoder(framing)
    assert feed_pieces(decoder, split(stream, cuts)) == sent
    assert decoder.counters.frames == len(sent)


@given(data=st.data(), framing=st.sampled_from([LINES_CRLF, LINES_LF]))
@settings(max_examples=200)
def test_lines_split_anywhere_among_blank_lines_yield_exactly_their_payloads(
    data: st.DataObject, framing: Framing
) -> None:
    sent = data.draw(st.lists(payloads(framing), max_size=6))
    blanks = st.integers(0, 2).map(lambda n: (framing.trailer + framing.end) * n)
    stream = data.draw(blanks)
    for payload in sent:
        stream += frame(framing, payload) + data.draw(blanks)
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=20))
    assert feed_pieces(FrameDecoder(framing), split(stream, cuts)) == sent


def noisy_streams(framing: Framing) -> st.SearchStrategy[bytes]:
    """Random bytes with frames, their parts and their marker bytes mixed in."""
    parts = st.one_of(
        st.binary(max_size=16),
        st.sampled_from([framing.start, framing.end, framing.trailer, framing.end[:1]]),
        payloads(framing).map(lambda p: frame(framing, p)),
        payloads(framing).map(lambda p: frame(framing, p)[: len(p) // 2 + 1]),
        st.binary(min_size=framing.max_len, max_size=framing.max_len + 8),
    )
    return st.lists(parts, max_size=12).map(b"".join)


@given(data=st.data(), framing=st.sampled_from(ALL_FRAMINGS))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_random_bytes_never_crash_it_and_only_valid_payloads_come_out(
    data: st.DataObject, framing: Framing
) -> None:
    stream = data.draw(noisy_streams(framing))
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=20))
    decoder = FrameDecoder(framing)
    hold = framing.max_len + len(framing.end) + len(framing.start)
    out: list[bytes] = []
    for piece in split(stream, cuts):
        out += decoder.feed(piece)
        assert decoder.pending <= hold
    assert all(well_formed(framing, payload) for payload in out)


def well_formed(framing: Framing, payload: bytes) -> bool:
    if not 1 <= len(payload) <= framing.max_len:
        return False
    if framing.encoding is PayloadEncoding.UTF8:
        return payload.decode("utf-8").isprintable()
    return set(payload.decode("latin-1")) <= set(_ALPHABETS[framing.encoding])


@given(data=st.data(), framing=st.sampled_from(ALL_FRAMINGS))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_how_bytes_are_split_does_not_change_what_is_decoded(
    data: st.DataObject, framing: Framing
) -> None:
    stream = data.draw(noisy_streams(framing))
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=30))
    whole, pieces = FrameDecoder(framing), FrameDecoder(framing)
    assert whole.feed(stream) == feed_pieces(pieces, split(stream, cuts))
    assert whole.counters == pieces.counters


# --- protocols --------------------------------------------------------------------------


def test_registry_has_the_em4100_protocol_at_9600_8n1() -> None:
    em = protocol("stx-etx-hex")
    assert (em.baud, em.bytesize, em.parity, em.stopbits) == (9600, 8, Parity.NONE, 1)
    assert em.role is SerialRole.CARD_READER
    assert em.framing.payload_len == 10


def test_unknown_protocol_name_is_config_invalid() -> None:
    with pytest.raises(DeviceError) as caught:
        protocol("em4100-turbo")
    assert caught.value.code is DeviceErrorCode.CONFIG_INVALID
    assert caught.value.params == {"field": "protocol", "reason": "unknown_value"}


def test_config_overrides_fields_of_a_registered_protocol() -> None:
    built = protocol_from_config("front-rfid", {
        "protocol": "stx-etx-hex", "baud": 19200, "parity": "even", "frame_timeout": 1,
    })
    assert built.baud == 19200
    assert built.parity is Parity.EVEN
    assert built.framing.frame_timeout == 1.0
    assert built.framing.checksum is Checksum.HEX_XOR  # the rest is the registered one


def test_config_describes_a_protocol_from_scratch_with_bytes_as_text_or_numbers() -> None:
    built = protocol_from_config("door-scanner", {
        "role": "scanner", "start": "\u0002", "end": [3], "checksum": "xor",
        "encoding": "utf8", "max_len": 300, "stopbits": 2, "bytesize": 7,
        "probe": [0x16, ord("M"), 0x0D], "probe_answer": r"REV\x06",
    })
    assert built.role is SerialRole.SCANNER
    assert (built.framing.start, built.framing.end) == (STX, ETX)
    assert built.probe == b"\x16M\r"
    assert built.probe_answer is not None and built.probe_answer.search(b"..REV\x06.")
    assert (built.stopbits, built.bytesize) == (2, 7)


def test_the_kind_a_device_is_configured_as_sets_the_role() -> None:
    built = protocol_from_config("door", {"protocol": "line-cr"}, kind=DeviceKind.SCANNER)
    assert built.role is SerialRole.SCANNER
    assert protocol_from_config("door", {"protocol": "line-cr"}).role is SerialRole.CARD_READER
    with pytest.raises(DeviceError) as caught:
        protocol_from_config("door", {"protocol": "line-cr", "role": "card_reader"},
                             kind=DeviceKind.SCANNER)
    assert caught.value.params == {"device": "door", "field": "role", "reason": "conflict"}
    with pytest.raises(DeviceError) as caught:
        protocol_from_config("door", {"protocol": "line-cr"}, kind=DeviceKind.PRINTER)
    assert caught.value.params == {"device": "door", "field": "kind", "reason": "unknown_value"}


def test_keys_of_the_caller_are_skipped_and_unknown_keys_refused() -> None:
    config = {"protocol": "line-cr", "path": "/dev/ttyUSB0", "kind": "card_reader"}
    assert protocol_from_config("r", config, other_keys={"path", "kind"}).name == "line-cr"
    with pytest.raises(DeviceError) as caught:
        protocol_from_config("r", {"protocol": "line-cr", "baudrate": 9600})
    assert caught.value.params == {"device": "r", "field": "baudrate", "reason": "unknown_field"}
    assert "baud" in PROTOCOL_KEYS


@pytest.mark.parametrize(
    ("config", "field", "reason"),
    [
        ({"protocol": 7}, "protocol", "wrong_type"),
        ({"protocol": "nope"}, "protocol", "unknown_value"),
        ({"start": "\u0002"}, "end", "missing"),
        ({"end": ""}, "end", "empty"),
        ({"end": "\r", "baud": True}, "baud", "wrong_type"),
        ({"end": "\r", "baud": "9600"}, "baud", "wrong_type"),
        ({"end": "\r", "baud": 10}, "baud", "out_of_range"),
        ({"end": "\r", "bytesize": 9}, "bytesize", "out_of_range"),
        ({"end": "\r", "stopbits": 3}, "stopbits", "unknown_value"),
        ({"end": "\r", "parity": "N"}, "parity", "unknown_value"),
        ({"end": "\r", "role": "printer"}, "role", "unknown_value"),
        ({"end": "\r", "checksum": "crc16"}, "checksum", "unknown_value"),
        ({"end": "\r", "checksum": "hex_xor"}, "checksum", "conflict"),
        ({"end": "\r", "encoding": "base64"}, "encoding", "unknown_value"),
        ({"end": "\r", "max_len": 0}, "max_len", "out_of_range"),
        ({"end": "\r", "frame_timeout": -1}, "frame_timeout", "out_of_range"),
        ({"end": "\u4e2d"}, "end", "out_of_range"),
        ({"end": [256]}, "end", "out_of_range"),
        ({"end": ["\r"]}, "end", "wrong_type"),
        ({"end": 13}, "end", "wrong_type"),
        ({"end": "\r", "probe": "?"}, "probe_answer", "missing"),
        ({"end": "\r", "probe_answer": "OK"}, "probe", "missing"),
        ({"end": "\r", "probe": "", "probe_answer": "OK"}, "probe", "empty"),
        ({"end": "\r", "probe": "?", "probe_answer": "(("}, "probe_answer", "bad_pattern"),
        ({"protocol": "stx-etx-hex", "max_len": 12}, "payload_len", "out_of_range"),
    ],
)
def test_each_invalid_config_field_is_named_with_its_reason(
    config: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(DeviceError) as caught:
        protocol_from_config("front-rfid", config)
    assert caught.value.code is DeviceErrorCode.CONFIG_INVALID
    assert caught.value.params == {"device": "front-rfid", "field": field, "reason": reason}
