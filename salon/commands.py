"""The command base and the registry that routes each command to the rule that decides it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from salon.errors import DomainError

if TYPE_CHECKING:
    from salon.context import Context
    from salon.events import Event
    from salon.state import SalonState

__all__ = ["Command", "decide", "handles", "outcome"]


@dataclass(frozen=True, kw_only=True)
class Command:
    """A request in the imperative (``RegisterMember``); ``actor_id`` is who asks."""

    actor_id: str


C = TypeVar("C", bound=Command)
Handler = Callable[["SalonState", Any, "Context"], Sequence["Event"]]
_HANDLERS: dict[type[Command], Handler] = {}


def handles(
    command_type: type[C],
) -> Callable[
    [Callable[[SalonState, C, Context], Sequence[Event]]],
    Callable[[SalonState, C, Context], Sequence[Event]],
]:
    """Register the decision function of one command type (one per type)."""

    def register(
        fn: Callable[[SalonState, C, Context], Sequence[Event]],
    ) -> Callable[[SalonState, C, Context], Sequence[Event]]:
        if command_type in _HANDLERS:
            raise TypeError(f"{command_type.__name__} already has a handler")
        _HANDLERS[command_type] = fn
        return fn

    return register


def decide(state: SalonState, command: Command, ctx: Context) -> tuple[Event, ...]:
    """Validate ``command`` against ``state`` and return its events; never mutates state.

    Raises ``DomainError`` when a rule refuses; its ``record`` events must still be
    committed (a failed PIN attempt), the command's own events must not.
    """
    try:
        handler = _HANDLERS[type(command)]
    except KeyError:
        raise TypeError(f"no handler for {type(command).__name__}") from None
    return tuple(handler(state, command, ctx))


def outcome(
    state: SalonState, command: Command, ctx: Context
) -> tuple[tuple[Event, ...], DomainError | None]:
    """What executing ``command`` commits, and the refusal to raise once that is committed.

    Accepted: its events and None. Refused: what the refusal must leave behind (a failed
    PIN try; often nothing) and the error. Every executor commits the first, then raises
    the second, so the rule lives here once.
    """
    try:
        return decide(state, command, ctx), None
    except DomainError as err:
        return err.record, err
