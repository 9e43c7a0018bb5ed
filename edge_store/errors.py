"""The edge store's one base error: a stable code (a msgid of kiosk/locale) and parameters."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = ["StoreError", "StoreErrorCode"]


class StoreErrorCode(StrEnum):
    """Why the store refused or failed; each value is a msgid in kiosk/locale/*.po."""

    LOCKED = "store.locked"
    """Another process holds the data directory."""
    NOT_DURABLE = "store.not_durable"
    """A commit could not be written and fsynced (disk full, read-only, I/O error)."""
    READ_ONLY = "store.read_only"
    """An earlier write failed; the store serves reads until it is reopened."""
    COMMIT_UNCERTAIN = "store.commit_uncertain"
    """A write failed and the disk refused to cut it back off: the record may be on the
    disk whole and be read at the next open. The store stops saving (READ_ONLY after)."""
    JOURNAL_CORRUPT = "store.journal_corrupt"
    """A damaged record with good records after it: not a torn tail, so not dropped."""
    JOURNAL_GAP = "store.journal_gap"
    """Sequence numbers are not gap-free across the journal."""
    FORMAT_NEWER = "store.format_newer"
    """Written by a newer version of the software than this one."""
    WRONG_STORE = "store.wrong_store"
    """The data belongs to a different store id."""
    NO_VALID_STATE = "store.no_valid_state"
    """No snapshot can be read and the journal no longer starts at record 1."""
    BACKUP_DAMAGED = "store.backup_damaged"
    """An archive whose checksums do not match, or that is not a store backup at all."""
    TARGET_NOT_EMPTY = "store.target_not_empty"
    """A restore would overwrite an existing store without --force."""
    NOT_A_STORE = "store.not_a_store"
    """The directory holds no store (no store.json): a wrong --data-dir, most likely."""
    BACKUP_INCONSISTENT = "store.backup_inconsistent"
    """The journal kept changing under a backup (segments removed) until it gave up."""
    RESTORE_INCOMPLETE = "store.restore_incomplete"
    """A restore into this directory did not finish; run it again (with --force)."""


class StoreError(Exception):
    """An error a person (or the engineer who keeps the Pi) can act on."""

    def __init__(self, code: StoreErrorCode, params: Mapping[str, str | int] | None = None) -> None:
        self.code = code
        self.params: dict[str, str | int] = dict(params or {})
        detail = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        super().__init__(code.value + (f" ({detail})" if detail else ""))
