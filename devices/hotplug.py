"""Hot-plug: notice device nodes appearing, going and changing permissions (inotify).

The device manager starts the watch *before* it lists and opens what is there, so a
scanner plugged in between the two is not missed. A node's permissions are set by
udev after the node appears, so an open that failed with EACCES is tried again on
the node's attribute change (IN_ATTRIB). A directory that does not exist yet
(``/dev/input`` before the first input device, ``/dev/serial/by-id`` before the first
USB-serial adapter) is waited for through its nearest existing parent.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from inotify_simple import INotify, flags

from devices.errors import DeviceError, DeviceErrorCode

__all__ = ["Change", "HotplugWatcher", "NodeEvent"]

log = logging.getLogger(__name__)

_NODE_MASK = (
    flags.CREATE | flags.DELETE | flags.ATTRIB | flags.MOVED_TO | flags.MOVED_FROM
    | flags.DELETE_SELF
)
_PARENT_MASK = flags.CREATE | flags.MOVED_TO


class Change(Enum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"  # attributes: udev set the permissions or owner


@dataclass(frozen=True, slots=True)
class NodeEvent:
    path: Path
    change: Change


class HotplugWatcher:
    """Watches directories of device nodes; ``wait`` returns what changed in them."""

    def __init__(self, directories: Iterable[Path | str]) -> None:
        self.directories = [Path(d) for d in directories]
        self._inotify: INotify | None = None
        self._watched: dict[int, Path] = {}  # watch descriptor -> directory watched for nodes
        self._waiting: dict[int, Path] = {}  # watch descriptor -> parent of a missing directory

    def start(self) -> None:
        try:
            self._inotify = INotify()
        except OSError as err:
            raise DeviceError(
                DeviceErrorCode.NOT_SUPPORTED, {"device": "hotplug", "reason": str(err)}
            ) from err
        for directory in self.directories:
            self._watch(directory)

    def _watch(self, directory: Path) -> list[NodeEvent]:
        """Watch ``directory`` (or wait for it); what is already in it counts as added."""
        assert self._inotify is not None
        try:
            # MASK_ADD: one directory may be watched for nodes and as a parent both (/dev).
            wd = self._inotify.add_watch(directory, _NODE_MASK | flags.MASK_ADD)
        except (FileNotFoundError, NotADirectoryError):
            return self._wait_for(directory)
        except OSError as err:
            # EACCES, or ENOSPC: fs.inotify.max_user_watches is used up. Its devices are
            # still retried on the manager's timer; the hub must not fail to start.
            log.warning("hotplug: cannot watch %s (%s)", directory, err.strerror)
            return []
        self._watched[wd] = directory
        # Listed after the watch is in place: a node made in between is seen twice at
        # most (here and as an event), never missed.
        try:
            return [NodeEvent(directory / name, Change.ADDED) for name in os.listdir(directory)]
        except OSError:
            return []

    def _wait_for(self, directory: Path) -> list[NodeEvent]:
        """Watch the nearest existing parent of ``directory`` for it to appear."""
        assert self._inotify is not None
        parent = directory.parent
        while not parent.is_dir() and parent != parent.parent:
            parent = parent.parent
        try:
            wd = self._inotify.add_watch(parent, _PARENT_MASK | flags.MASK_ADD)
        except OSError as err:
            log.warning("hotplug: cannot watch %s for %s (%s)", parent, directory, err.strerror)
            return []
        self._waiting[wd] = parent
        if directory.is_dir():  # made between the failed watch and the parent's
            return self._watch(directory)
        return []

    def wait(self, timeout: float) -> list[NodeEvent]:
        """Changes within ``timeout`` seconds (an empty list if none)."""
        if self._inotify is None:
            raise RuntimeError("HotplugWatcher.wait before start")
        out: list[NodeEvent] = []
        for event in self._inotify.read(timeout=max(int(timeout * 1000), 0)):
            if event.mask & flags.Q_OVERFLOW:
                out += self._overflowed()
                continue
            if event.wd in self._waiting and event.mask & _PARENT_MASK:
                out += self._arrived(event.wd)
            directory = self._watched.get(event.wd)
            if directory is None:
                continue
            if event.mask & flags.DELETE_SELF:
                # The directory went (the last input device unplugged): wait for it again.
                del self._watched[event.wd]
                out += self._watch(directory)
                continue
            if event.mask & (flags.CREATE | flags.MOVED_TO):
                change = Change.ADDED
            elif event.mask & (flags.DELETE | flags.MOVED_FROM):
                change = Change.REMOVED
            else:
                change = Change.CHANGED
            out.append(NodeEvent(directory / event.name, change))
        return out

    def _overflowed(self) -> list[NodeEvent]:
        """The kernel's event queue overflowed and dropped events: every watched directory
        may have changed, and a missing one may have appeared unseen."""
        out = [NodeEvent(directory, Change.CHANGED) for directory in self._watched.values()]
        for wd in list(self._waiting):
            if wd in self._waiting:  # one parent's re-watch may have replaced another's
                out += self._arrived(wd)
        return out

    def _arrived(self, wd: int) -> list[NodeEvent]:
        """Something appeared in the parent of a missing directory: watch again what is missing
        (the directory itself if it is there now, else its nearest existing parent)."""
        assert self._inotify is not None
        parent = self._waiting.pop(wd)
        if wd not in self._watched:
            with contextlib.suppress(OSError):  # gone with its directory
                self._inotify.rm_watch(wd)
        out: list[NodeEvent] = []
        watched = set(self._watched.values())
        for directory in self.directories:
            if directory not in watched and parent in directory.parents:
                out += self._watch(directory)
        return out

    def close(self) -> None:
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
        self._watched.clear()
        self._waiting.clear()
