"""The hub's base error: a stable code and parameters, rendered by the kiosk's i18n catalog."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["HubError"]


class HubError(Exception):
    """An error a person can act on; ``code`` is a msgid in kiosk/locale/*.po."""

    def __init__(self, code: str, params: Mapping[str, str | int] | None = None) -> None:
        self.code = code
        self.params: dict[str, str | int] = dict(params or {})
        detail = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        super().__init__(code + (f" ({detail})" if detail else ""))
