"""Members and their cards as the state holds them: the records, their events, the MemberBook."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.indexes import INDEX, group
from salon.masking import mask_mobile, mask_name, normalize_card_uid, normalize_mobile

__all__ = [
    "CardBlocked",
    "CardLink",
    "CardLinked",
    "CardStatus",
    "CardUnlinked",
    "Gender",
    "MaskedMember",
    "Member",
    "MemberBlacklisted",
    "MemberBook",
    "MemberProfileUpdated",
    "MemberRegistered",
    "MemberUnblacklisted",
    "SourceChannel",
]


class Gender(StrEnum):
    UNSPECIFIED = "unspecified"
    FEMALE = "female"
    MALE = "male"


class SourceChannel(StrEnum):
    """How the member first came to the store (for the acquisition reports)."""

    WALK_IN = "walk_in"
    REFERRAL = "referral"
    AD = "ad"
    ONLINE = "online"


class CardStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    """Reported lost: it stays linked so nobody else can take it and a scan is refused."""


@dataclass(frozen=True, slots=True)
class Member:
    member_id: str
    name: str
    mobile: str
    gender: Gender
    birthday: date | None
    birthday_lunar: bool
    """The birthday is a 农历 month and day (the year is the Gregorian year of birth)."""
    source: SourceChannel
    referrer_id: str
    tags: tuple[str, ...]
    notes: str
    store_id: str
    """The store that registered the member."""
    registered_at: datetime
    blacklisted: bool = False
    blacklist_reason: str = ""

    def masked(self) -> MaskedMember:
        """What a screen or a receipt may show."""
        return MaskedMember(
            member_id=self.member_id,
            name=mask_name(self.name),
            mobile=mask_mobile(self.mobile),
            blacklisted=self.blacklisted,
        )


@dataclass(frozen=True, slots=True)
class MaskedMember:
    member_id: str
    name: str
    mobile: str
    blacklisted: bool


@dataclass(frozen=True, slots=True)
class CardLink:
    card_uid: str
    member_id: str
    status: CardStatus = CardStatus.ACTIVE
    blocked_reason: str = ""


@dataclass(frozen=True, kw_only=True)
class MemberRegistered(Event):
    member_id: str
    name: str
    mobile: str
    gender: Gender
    birthday: date | None
    birthday_lunar: bool
    source: SourceChannel
    referrer_id: str
    tags: tuple[str, ...]
    notes: str


@dataclass(frozen=True, kw_only=True)
class MemberProfileUpdated(Event):
    """The whole profile after the change, so a replica needs no earlier version of it."""

    member_id: str
    name: str
    mobile: str
    gender: Gender
    birthday: date | None
    birthday_lunar: bool
    source: SourceChannel
    tags: tuple[str, ...]
    notes: str


@dataclass(frozen=True, kw_only=True)
class CardLinked(Event):
    member_id: str
    card_uid: str


@dataclass(frozen=True, kw_only=True)
class CardUnlinked(Event):
    member_id: str
    card_uid: str


@dataclass(frozen=True, kw_only=True)
class CardBlocked(Event):
    member_id: str
    card_uid: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class MemberBlacklisted(Event):
    member_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class MemberUnblacklisted(Event):
    member_id: str
    reason: str


@dataclass
class MemberBook:
    """The members slice: members by id, with indexes for the kiosk's hot lookups."""

    members: dict[str, Member] = field(default_factory=dict)
    mobile_index: dict[str, str] = field(default_factory=dict, metadata=INDEX)
    """Normalised mobile -> member id."""
    card_index: dict[str, CardLink] = field(default_factory=dict)
    """Normalised card UID -> its link, blocked cards included, in the order linked."""
    member_cards: dict[str, list[str]] = field(default_factory=dict, metadata=INDEX)
    """Member id -> the UIDs of their cards in the order linked (``cards_of`` without a scan)."""

    def reindex(self) -> None:
        self.mobile_index = {m.mobile: member_id for member_id, m in self.members.items()}
        self.member_cards = group((link.member_id, uid) for uid, link in self.card_index.items())

    def apply(self, event: Event) -> None:
        match event:
            case MemberRegistered():
                self.members[event.member_id] = Member(
                    member_id=event.member_id,
                    name=event.name,
                    mobile=event.mobile,
                    gender=event.gender,
                    birthday=event.birthday,
                    birthday_lunar=event.birthday_lunar,
                    source=event.source,
                    referrer_id=event.referrer_id,
                    tags=event.tags,
                    notes=event.notes,
                    store_id=event.meta.store_id,
                    registered_at=event.meta.at,
                )
                self.mobile_index[event.mobile] = event.member_id
            case MemberProfileUpdated():
                old = self.members[event.member_id]
                del self.mobile_index[old.mobile]
                self.mobile_index[event.mobile] = event.member_id
                self.members[event.member_id] = replace(
                    old,
                    name=event.name,
                    mobile=event.mobile,
                    gender=event.gender,
                    birthday=event.birthday,
                    birthday_lunar=event.birthday_lunar,
                    source=event.source,
                    tags=event.tags,
                    notes=event.notes,
                )
            case CardLinked():
                self.card_index[event.card_uid] = CardLink(event.card_uid, event.member_id)
                self.member_cards.setdefault(event.member_id, []).append(event.card_uid)
            case CardUnlinked():
                link = self.card_index.pop(event.card_uid)
                uids = self.member_cards[link.member_id]
                uids.remove(event.card_uid)
                if not uids:
                    del self.member_cards[link.member_id]
            case CardBlocked():
                self.card_index[event.card_uid] = CardLink(
                    event.card_uid, event.member_id, CardStatus.BLOCKED, event.reason
                )
            case MemberBlacklisted():
                self.members[event.member_id] = replace(
                    self.members[event.member_id], blacklisted=True, blacklist_reason=event.reason
                )
            case MemberUnblacklisted():
                self.members[event.member_id] = replace(
                    self.members[event.member_id], blacklisted=False, blacklist_reason=""
                )
            case _:
                pass

    def get(self, member_id: str) -> Member:
        try:
            return self.members[member_id]
        except KeyError:
            raise DomainError(ErrorCode.UNKNOWN_MEMBER, {"member_id": member_id}) from None

    def not_blacklisted(self, member_id: str) -> Member:
        """The member, unless refused service or credit (MEMBER_BLACKLISTED with the reason)."""
        member = self.get(member_id)
        if member.blacklisted:
            raise DomainError(ErrorCode.MEMBER_BLACKLISTED, {"reason": member.blacklist_reason})
        return member

    def by_mobile(self, mobile: str) -> Member:
        """The member with this mobile as typed (INVALID_MOBILE, UNKNOWN_MEMBER)."""
        normalised = normalize_mobile(mobile)
        member_id = self.mobile_index.get(normalised)
        if member_id is None:
            raise DomainError(ErrorCode.UNKNOWN_MEMBER, {"mobile_masked": mask_mobile(normalised)})
        return self.members[member_id]

    def by_card(self, card_uid: str) -> Member:
        """The holder of a card as scanned (INVALID_CARD_UID, UNKNOWN_CARD, CARD_BLOCKED)."""
        link = self.card_link(card_uid)
        if link.status is CardStatus.BLOCKED:
            raise DomainError(
                ErrorCode.CARD_BLOCKED, {"card_uid": link.card_uid, "reason": link.blocked_reason}
            )
        return self.members[link.member_id]

    def card_link(self, card_uid: str) -> CardLink:
        """The link of a card, blocked or not (INVALID_CARD_UID, UNKNOWN_CARD)."""
        normalised = normalize_card_uid(card_uid)
        link = self.card_index.get(normalised)
        if link is None:
            raise DomainError(ErrorCode.UNKNOWN_CARD, {"card_uid": normalised})
        return link

    def cards_of(self, member_id: str) -> tuple[CardLink, ...]:
        return tuple(self.card_index[uid] for uid in self.member_cards.get(member_id, ()))
