"""``store verify``: rebuild the state from the journal and compare it with the snapshots.

Every snapshot on disk is compared with the journal replayed up to its record, and
the running state and its TinyDB projections with the whole journal replayed. Any
difference is reported by path (``accounts.lots.R-0001.bonus_fen: 200 != 0``); a
clean store reports none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_store.codec import encode
from edge_store.projections import Projections
from edge_store.records import events_of
from edge_store.store import EdgeStore
from salon.state import SalonState

__all__ = ["VerifyReport", "differences", "verify"]

_MAX_REPORTED = 50


@dataclass
class VerifyReport:
    records: int = 0
    snapshots_checked: list[str] = field(default_factory=list)
    snapshots_unreadable: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    started_from: str = "record 1"

    @property
    def ok(self) -> bool:
        return not self.differences and not self.snapshots_unreadable


def differences(a: Any, b: Any, path: str = "", out: list[str] | None = None) -> list[str]:
    """Paths where two JSON values differ (at most 50)."""
    found = [] if out is None else out
    if len(found) >= _MAX_REPORTED:
        return found
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                found.append(f"{sub}: only in {'the replay' if key in b else 'the snapshot'}")
            else:
                differences(a[key], b[key], sub, found)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            differences(x, y, f"{path}[{i}]", found)
    elif a != b:
        found.append(f"{path}: {_short(a)} != {_short(b)}")
    return found[:_MAX_REPORTED]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def verify(store: EdgeStore) -> VerifyReport:
    """Compare every snapshot and the running state with a replay of the journal."""
    report = VerifyReport()
    store.flush()  # a snapshot being written (and older ones pruned) would race the reads
    with store._lock:
        journal = store.journal
        # Each snapshot is read when the replay reaches its record, so one is held at a time.
        snapshots: dict[int, Path] = {}
        for path in store.snapshots.paths():
            seq = store.snapshots.seq_of(path)
            if seq is None:
                report.snapshots_unreadable.append(path.name)
            else:
                snapshots[seq] = path
        state, position = _starting_state(store, snapshots, report)
        for record in journal.read_after(position):
            state.apply_all(events_of(record))
            report.records += 1
            if record.seq in snapshots:
                saved = _read(store, snapshots[record.seq], report)
                if saved is not None:
                    _compare(report, snapshots[record.seq].name, encode(saved, SalonState),
                             encode(state, SalonState))
        now = store.ctx.clock()
        _compare(report, "running state", encode(store.state, SalonState),
                 encode(state, SalonState))
        live, replayed = Projections(), Projections()
        live.rebuild(store.state, now)
        replayed.rebuild(state, now)
        _compare(report, "projections", store.projections.dump(), replayed.dump())
        _compare(report, "projections (rebuilt)", live.dump(), replayed.dump())
    return report


def _read(store: EdgeStore, path: Path, report: VerifyReport) -> SalonState | None:
    try:
        _, state = store.snapshots.read(path)
    except ValueError:
        report.snapshots_unreadable.append(path.name)
        return None
    saved: SalonState = state
    return saved


def _starting_state(
    store: EdgeStore, snapshots: dict[int, Path], report: VerifyReport
) -> tuple[SalonState, int]:
    first = store.journal.first_seq
    if first == 1:
        return store.new_state(), 0
    # Acknowledged segments were removed: start from the oldest snapshot the journal continues.
    for seq in sorted(seq for seq in snapshots if seq >= first - 1):
        path = snapshots[seq]
        state = _read(store, path, report)
        if state is not None:
            report.started_from = f"snapshot {path.name}"
            report.snapshots_checked.append(path.name)
            store.attach_history(state)
            return state, seq
    report.differences.append(f"no snapshot covers record {first - 1}; cannot replay")
    return store.new_state(), store.journal.last_seq


def _compare(report: VerifyReport, name: str, expected: Any, actual: Any) -> None:
    if name.endswith(".snap"):
        report.snapshots_checked.append(name)
    for diff in differences(expected, actual):
        report.differences.append(f"{name}: {diff}")
