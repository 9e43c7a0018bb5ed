"""Member commands (会员): registration, profile, card links, lost cards, the blacklist.

The records, events and the MemberBook live in salon.member_book and are re-exported here,
so ``salon.members`` is the one name the other areas import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from salon.commands import Command, handles
from salon.context import Context
from salon.errors import DomainError, ErrorCode, invalid_input
from salon.events import Event
from salon.masking import mask_mobile, mask_name, normalize_card_uid, normalize_mobile
from salon.member_book import (
    CardBlocked,
    CardLink,
    CardLinked,
    CardStatus,
    CardUnlinked,
    Gender,
    MaskedMember,
    Member,
    MemberBlacklisted,
    MemberBook,
    MemberProfileUpdated,
    MemberRegistered,
    MemberUnblacklisted,
    SourceChannel,
)
from salon.staff import Permission, audit, require

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "MEMBER_CODE_PREFIX",
    "BlacklistMember",
    "BlockCard",
    "CardBlocked",
    "CardLink",
    "CardLinked",
    "CardStatus",
    "CardUnlinked",
    "Gender",
    "LinkCard",
    "MaskedMember",
    "Member",
    "MemberBlacklisted",
    "MemberBook",
    "MemberProfileUpdated",
    "MemberRegistered",
    "MemberUnblacklisted",
    "RegisterMember",
    "SourceChannel",
    "UnblacklistMember",
    "UnlinkCard",
    "UpdateMemberProfile",
    "customer_of",
    "mask_mobile",
    "mask_name",
    "member_code",
    "member_of_code",
    "normalize_card_uid",
    "normalize_mobile",
]

NAME_MAX_CHARS = 32


@dataclass(frozen=True, kw_only=True)
class RegisterMember(Command):
    name: str
    mobile: str
    gender: Gender = Gender.UNSPECIFIED
    birthday: date | None = None
    birthday_lunar: bool = False
    source: SourceChannel = SourceChannel.WALK_IN
    referrer_id: str = ""
    tags: tuple[str, ...] = ()
    notes: str = ""
    card_uid: str = ""


@dataclass(frozen=True, kw_only=True)
class UpdateMemberProfile(Command):
    """Fields left None stay as they are; ``clear_birthday`` removes a birthday on file."""

    member_id: str
    name: str | None = None
    mobile: str | None = None
    gender: Gender | None = None
    birthday: date | None = None
    birthday_lunar: bool | None = None
    clear_birthday: bool = False
    tags: tuple[str, ...] | None = None
    notes: str | None = None
    source: SourceChannel | None = None


@dataclass(frozen=True, kw_only=True)
class LinkCard(Command):
    member_id: str
    card_uid: str


@dataclass(frozen=True, kw_only=True)
class UnlinkCard(Command):
    member_id: str
    card_uid: str


@dataclass(frozen=True, kw_only=True)
class BlockCard(Command):
    """A card reported lost: scans of it are refused from now on."""

    card_uid: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class BlacklistMember(Command):
    member_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class UnblacklistMember(Command):
    member_id: str
    reason: str


MEMBER_CODE_PREFIX = "SALON-M:"
"""A member code (会员码) is this and the member id: what the member's QR code holds. It
names the member for a check-in only; it is not signed, so it never authorises a payment
(stored value needs the card, or the PIN where the store asks for one)."""


def customer_of(state: SalonState, member_id: str, guest_name: str, guest_mobile: str,
                ) -> tuple[Member | None, str, str]:
    """(the member, or None for a guest; the guest's name and mobile, "" for a member) of
    a booking or a walk-in: a member must exist (UNKNOWN_MEMBER), a guest give a name
    (INVALID_NAME) and a valid mobile (INVALID_MOBILE)."""
    if member_id:
        return state.members.get(member_id), "", ""
    name = guest_name.strip()
    if not name:
        raise DomainError(ErrorCode.INVALID_NAME)
    return None, name, normalize_mobile(guest_mobile)


def member_code(member_id: str) -> str:
    """The text of a member's QR code."""
    return MEMBER_CODE_PREFIX + member_id


def member_of_code(state: SalonState, text: str) -> Member:
    """The member a scanned member code names (INVALID_INPUT, UNKNOWN_MEMBER)."""
    code = text.strip()
    if not code.startswith(MEMBER_CODE_PREFIX) or len(code) == len(MEMBER_CODE_PREFIX):
        raise invalid_input("member_code", "not a member code")
    return state.members.get(code.removeprefix(MEMBER_CODE_PREFIX))


def _check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX_CHARS:
        raise DomainError(ErrorCode.INVALID_NAME)
    return cleaned


def _check_mobile_free(state: SalonState, mobile: str, member_id: str = "") -> None:
    holder = state.members.mobile_index.get(mobile)
    if holder is not None and holder != member_id:
        raise DomainError(ErrorCode.MOBILE_TAKEN, {"mobile_masked": mask_mobile(mobile)})


def _check_birthday(state: SalonState, birthday: date | None, at: datetime) -> None:
    local = at + timedelta(minutes=state.config.checkout.utc_offset_minutes)
    if birthday is not None and birthday > local.date():
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "birthday", "reason": "future"})


def _clean_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """Trimmed, without empties or repeats, in the order given (敏感肌, 喜欢染发)."""
    return tuple(dict.fromkeys(tag.strip() for tag in tags if tag.strip()))


def _free_card(state: SalonState, card_uid: str) -> str:
    normalised = normalize_card_uid(card_uid)
    if normalised in state.members.card_index or normalised in state.queue.staff_cards:
        raise DomainError(ErrorCode.CARD_TAKEN, {"card_uid": normalised})
    return normalised


@handles(RegisterMember)
def register_member(state: SalonState, cmd: RegisterMember, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.REGISTER_MEMBER)
    at = ctx.clock()
    name = _check_name(cmd.name)
    mobile = normalize_mobile(cmd.mobile)
    _check_mobile_free(state, mobile)
    _check_birthday(state, cmd.birthday, at)
    if cmd.referrer_id:
        state.members.get(cmd.referrer_id)
    card_uid = _free_card(state, cmd.card_uid) if cmd.card_uid else ""
    member_id = ctx.new_id()
    events: list[Event] = [
        MemberRegistered(
            meta=ctx.meta(cmd.actor_id, at),
            member_id=member_id,
            name=name,
            mobile=mobile,
            gender=cmd.gender,
            birthday=cmd.birthday,
            birthday_lunar=cmd.birthday_lunar,
            source=cmd.source,
            referrer_id=cmd.referrer_id,
            tags=_clean_tags(cmd.tags),
            notes=cmd.notes.strip(),
        )
    ]
    if card_uid:
        events.append(
            CardLinked(meta=ctx.meta(cmd.actor_id, at), member_id=member_id, card_uid=card_uid)
        )
    return events


@handles(UpdateMemberProfile)
def update_member_profile(
    state: SalonState, cmd: UpdateMemberProfile, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.EDIT_MEMBER)
    at = ctx.clock()
    old = state.members.get(cmd.member_id)
    if cmd.clear_birthday and cmd.birthday is not None:
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "birthday", "reason": "conflict"})
    mobile = old.mobile if cmd.mobile is None else normalize_mobile(cmd.mobile)
    _check_mobile_free(state, mobile, cmd.member_id)
    _check_birthday(state, cmd.birthday, at)
    birthday = old.birthday if cmd.birthday is None else cmd.birthday
    new = replace(
        old,
        name=old.name if cmd.name is None else _check_name(cmd.name),
        mobile=mobile,
        gender=old.gender if cmd.gender is None else cmd.gender,
        birthday=None if cmd.clear_birthday else birthday,
        birthday_lunar=old.birthday_lunar if cmd.birthday_lunar is None else cmd.birthday_lunar,
        source=old.source if cmd.source is None else cmd.source,
        tags=old.tags if cmd.tags is None else _clean_tags(cmd.tags),
        notes=old.notes if cmd.notes is None else cmd.notes.strip(),
    )
    if new == old:
        return ()
    return [
        MemberProfileUpdated(
            meta=ctx.meta(cmd.actor_id, at),
            member_id=new.member_id,
            name=new.name,
            mobile=new.mobile,
            gender=new.gender,
            birthday=new.birthday,
            birthday_lunar=new.birthday_lunar,
            source=new.source,
            tags=new.tags,
            notes=new.notes,
        )
    ]


@handles(LinkCard)
def link_card(state: SalonState, cmd: LinkCard, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_CARDS)
    state.members.get(cmd.member_id)
    card_uid = _free_card(state, cmd.card_uid)
    return [CardLinked(meta=ctx.meta(cmd.actor_id), member_id=cmd.member_id, card_uid=card_uid)]


@handles(UnlinkCard)
def unlink_card(state: SalonState, cmd: UnlinkCard, ctx: Context) -> Sequence[Event]:
    """Unlink a card the member no longer uses; a blocked card stays blocked (lost is lost)."""
    require(state.staff, cmd.actor_id, Permission.MANAGE_CARDS)
    state.members.get(cmd.member_id)
    card_uid = normalize_card_uid(cmd.card_uid)
    link = state.members.card_index.get(card_uid)
    if link is None or link.member_id != cmd.member_id:
        raise DomainError(
            ErrorCode.CARD_NOT_LINKED, {"card_uid": card_uid, "member_id": cmd.member_id}
        )
    if link.status is CardStatus.BLOCKED:
        raise DomainError(
            ErrorCode.CARD_BLOCKED, {"card_uid": card_uid, "reason": link.blocked_reason}
        )
    return [CardUnlinked(meta=ctx.meta(cmd.actor_id), member_id=cmd.member_id, card_uid=card_uid)]


@handles(BlockCard)
def block_card(state: SalonState, cmd: BlockCard, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_CARDS)
    reason = cmd.reason.strip()
    if not reason:
        raise DomainError(ErrorCode.REASON_REQUIRED, {"act": Permission.MANAGE_CARDS.value})
    link = state.members.card_link(cmd.card_uid)
    if link.status is CardStatus.BLOCKED:
        raise DomainError(
            ErrorCode.CARD_BLOCKED, {"card_uid": link.card_uid, "reason": link.blocked_reason}
        )
    return [
        CardBlocked(
            meta=ctx.meta(cmd.actor_id),
            member_id=link.member_id,
            card_uid=link.card_uid,
            reason=reason,
        )
    ]


@handles(BlacklistMember)
def blacklist_member(state: SalonState, cmd: BlacklistMember, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BLACKLIST)
    state.members.not_blacklisted(cmd.member_id)
    at = ctx.clock()
    meta = ctx.meta(cmd.actor_id, at)
    trail = audit(ctx.meta(cmd.actor_id, at), Permission.BLACKLIST, cmd.member_id, cmd.reason)
    return [MemberBlacklisted(meta=meta, member_id=cmd.member_id, reason=trail.reason), trail]


@handles(UnblacklistMember)
def unblacklist_member(state: SalonState, cmd: UnblacklistMember, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BLACKLIST)
    if not state.members.get(cmd.member_id).blacklisted:
        raise DomainError(
            ErrorCode.INVALID_INPUT, {"field": "member_id", "reason": "not_blacklisted"}
        )
    at = ctx.clock()
    meta = ctx.meta(cmd.actor_id, at)
    trail = audit(
        ctx.meta(cmd.actor_id, at), Permission.BLACKLIST, cmd.member_id, cmd.reason, detail="lifted"
    )
    return [MemberUnblacklisted(meta=meta, member_id=cmd.member_id, reason=trail.reason), trail]
