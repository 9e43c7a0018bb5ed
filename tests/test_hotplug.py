"""The hot-plug watch sees nodes come, go and change permissions, and directories appear."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from inotify_simple import INotify

from devices.hotplug import Change, HotplugWatcher, NodeEvent


def _collect(watcher: HotplugWatcher, want: NodeEvent, rounds: int = 20) -> list[NodeEvent]:
    """Events until ``want`` is among them (inotify delivers at once; the bound stops a bug)."""
    seen: list[NodeEvent] = []
    for _ in range(rounds):
        seen += watcher.wait(0.1)
        if want in seen:
            return seen
    raise AssertionError(f"{want} not seen in {seen}")


def test_nodes_added_changed_and_removed_are_reported(tmp_path: Path) -> None:
    watcher = HotplugWatcher([tmp_path])
    watcher.start()
    try:
        node = tmp_path / "event3"
        node.touch()
        _collect(watcher, NodeEvent(node, Change.ADDED))
        os.chmod(node, 0o660)  # what udev does after the node appears
        _collect(watcher, NodeEvent(node, Change.CHANGED))
        node.unlink()
        _collect(watcher, NodeEvent(node, Change.REMOVED))
    finally:
        watcher.close()


def test_a_symlink_moved_into_place_counts_as_added(tmp_path: Path) -> None:
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    target = tmp_path / "event7"
    target.touch()
    watcher = HotplugWatcher([by_id])
    watcher.start()
    try:
        temp = tmp_path / "link.tmp"
        temp.symlink_to(target)
        os.replace(temp, by_id / "usb-Scanner-event-kbd")  # how udev places by-id links
        _collect(watcher, NodeEvent(by_id / "usb-Scanner-event-kbd", Change.ADDED))
    finally:
        watcher.close()


def test_what_is_there_at_start_is_listed_after_the_watch_begins(tmp_path: Path) -> None:
    (tmp_path / "event0").touch()
    watcher = HotplugWatcher([tmp_path])
    watcher.start()
    try:
        (tmp_path / "event1").touch()
        seen = _collect(watcher, NodeEvent(tmp_path / "event1", Change.ADDED))
        assert NodeEvent(tmp_path / "event1", Change.ADDED) in seen
    finally:
        watcher.close()


def test_a_directory_that_appears_later_is_watched_with_what_it_holds(tmp_path: Path) -> None:
    serial_by_id = tmp_path / "serial" / "by-id"  # two levels missing, as on a fresh Pi
    watcher = HotplugWatcher([serial_by_id])
    watcher.start()
    try:
        assert watcher.wait(0.05) == []
        serial_by_id.mkdir(parents=True)
        (serial_by_id / "usb-FTDI_reader-if00-port0").touch()
        seen = _collect(watcher, NodeEvent(serial_by_id / "usb-FTDI_reader-if00-port0",
                                           Change.ADDED))
        assert all(e.path.parent == serial_by_id for e in seen)
        (serial_by_id / "usb-second").touch()
        _collect(watcher, NodeEvent(serial_by_id / "usb-second", Change.ADDED))
    finally:
        watcher.close()


def test_a_directory_removed_and_made_again_is_watched_again(tmp_path: Path) -> None:
    inputs = tmp_path / "input"
    inputs.mkdir()
    watcher = HotplugWatcher([inputs])
    watcher.start()
    try:
        (inputs / "event0").touch()
        _collect(watcher, NodeEvent(inputs / "event0", Change.ADDED))
        (inputs / "event0").unlink()
        inputs.rmdir()  # the last input device went
        _collect(watcher, NodeEvent(inputs / "event0", Change.REMOVED))
        watcher.wait(0.05)
        inputs.mkdir()
        (inputs / "event5").touch()
        _collect(watcher, NodeEvent(inputs / "event5", Change.ADDED))
    finally:
        watcher.close()


def test_an_overflowed_event_queue_is_reported_and_missing_directories_looked_at_again(
    tmp_path: Path,
) -> None:
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    if limit > 100_000:
        pytest.skip(f"max_queued_events is {limit}: too many files to overflow it")
    inputs, serial_by_id = tmp_path / "input", tmp_path / "serial" / "by-id"
    inputs.mkdir()
    watcher = HotplugWatcher([inputs, serial_by_id])
    watcher.start()
    try:
        for n in range(limit + 10):  # more events than the kernel queues: some are dropped
            (inputs / f"event{n}").touch()
        serial_by_id.mkdir(parents=True)  # its parent's CREATE is among the dropped
        (serial_by_id / "usb-FTDI_reader-if00-port0").touch()
        seen = _collect(watcher, NodeEvent(inputs, Change.CHANGED))
        assert NodeEvent(serial_by_id / "usb-FTDI_reader-if00-port0", Change.ADDED) in seen
    finally:
        watcher.close()


def test_a_directory_that_cannot_be_watched_leaves_the_others_watched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full, fine = tmp_path / "full", tmp_path / "fine"
    full.mkdir()
    fine.mkdir()
    missing = tmp_path / "gone" / "by-id"  # waited for through its parent: refused too
    add_watch = INotify.add_watch

    def refuse_some(self: INotify, path: Path, mask: int) -> int:
        if Path(path) in (full, tmp_path):  # the user's inotify watches are used up
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        wd: int = add_watch(self, path, mask)
        return wd

    monkeypatch.setattr(INotify, "add_watch", refuse_some)
    watcher = HotplugWatcher([full, missing, fine])
    watcher.start()
    try:
        (fine / "event2").touch()
        _collect(watcher, NodeEvent(fine / "event2", Change.ADDED))
    finally:
        watcher.close()
