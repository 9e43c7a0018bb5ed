"""``store.json``: which store a data directory belongs to, fixed when the store is created.

``{"format", "store_id"}``, replaced atomically; a restore in progress adds
``"restoring"`` (the archive) until the directory is whole again (``edge_store.restore``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edge_store.errors import StoreError, StoreErrorCode
from edge_store.files import atomic_write

__all__ = ["IDENTITY_FILE", "IDENTITY_FORMAT", "claim_identity", "read_identity"]

IDENTITY_FILE = "store.json"
IDENTITY_FORMAT = 1


def claim_identity(data_dir: Path, store_id: str) -> None:
    """Make the directory ``store_id``'s if it is new; refuse another store's, or a newer
    format's, or one a restore has not finished."""
    path = data_dir / IDENTITY_FILE
    if not path.exists():
        atomic_write(path, json.dumps({"format": IDENTITY_FORMAT, "store_id": store_id}).encode())
        return
    data = json.loads(path.read_bytes())
    if data.get("format", 0) > IDENTITY_FORMAT:
        raise StoreError(
            StoreErrorCode.FORMAT_NEWER,
            {"file": path.name, "format": data["format"], "known": IDENTITY_FORMAT},
        )
    if "restoring" in data:
        raise StoreError(StoreErrorCode.RESTORE_INCOMPLETE, {"archive": str(data["restoring"])})
    if data.get("store_id") != store_id:
        raise StoreError(
            StoreErrorCode.WRONG_STORE, {"file": path.name, "found": str(data.get("store_id"))}
        )


def read_identity(data_dir: Path) -> dict[str, Any]:
    """The parsed ``store.json`` of a data directory; NOT_A_STORE if there is none."""
    path = data_dir / IDENTITY_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise StoreError(StoreErrorCode.NOT_A_STORE, {"path": str(data_dir)}) from None
    except ValueError as err:
        raise StoreError(
            StoreErrorCode.NOT_A_STORE, {"path": str(data_dir), "reason": str(err)}
        ) from err
    if not isinstance(data, dict) or not isinstance(data.get("store_id"), str):
        raise StoreError(StoreErrorCode.NOT_A_STORE, {"path": str(data_dir)})
    return data
