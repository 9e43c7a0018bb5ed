"""Members: registration, mobile and card normalisation, masking, profile, cards, blacklist."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, STYLIST, assert_refused, make_salon

from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.members import (
    BlacklistMember,
    BlockCard,
    CardBlocked,
    CardLinked,
    CardStatus,
    Gender,
    LinkCard,
    MemberBlacklisted,
    MemberProfileUpdated,
    MemberRegistered,
    RegisterMember,
    SourceChannel,
    UnblacklistMember,
    UnlinkCard,
    UpdateMemberProfile,
    mask_mobile,
    mask_name,
    normalize_card_uid,
    normalize_mobile,
)
from salon.staff import HQ_ACTOR, Permission, SensitiveActAudited

MOBILE = "13812345678"


def register(salon: Salon, mobile: str = MOBILE, name: str = "张三", **extra: object) -> str:
    events = salon.execute(RegisterMember(actor_id=DESK, name=name, mobile=mobile, **extra))
    first = events[0]
    assert isinstance(first, MemberRegistered)
    return first.member_id


# -- normalising and masking ------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        " 138 1234 5678 ",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "008613812345678",
        "8613812345678",
        "１３８１２３４５６７８",  # full-width digits, as a Chinese IME types them
    ],
)
def test_mobile_is_normalised_to_eleven_digits(typed: str) -> None:
    assert normalize_mobile(typed) == MOBILE


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12812345678",
        "1381234567",
        "138123456789",
        "23812345678",
        "+85213812345678",
        "1381234567a",
        "٩٣٨١٢٣٤٥٦٧٨",
    ],
)
def test_mobile_that_is_not_a_cn_mobile_is_refused(typed: str) -> None:
    with pytest.raises(DomainError) as err:
        normalize_mobile(typed)
    assert err.value.code is ErrorCode.INVALID_MOBILE
    assert err.value.params == {}


@pytest.mark.parametrize(
    ("scanned", "uid"),
    [
        ("04:a1:b2:c3", "04A1B2C3"),  # 4-byte RFID UID, colon separated
        ("04 A1 B2 C3 D4 E5 F6", "04A1B2C3D4E5F6"),  # 7-byte NFC UID
        ("04-a1-b2-c3-d4-e5-f6-a7-b8-c9", "04A1B2C3D4E5F6A7B8C9"),  # 10-byte UID
        ("0012345678", "0012345678"),  # decimal, as many USB readers type it
        (";6225880112345678=25121010000?", "6225880112345678"),  # magstripe track 2
        ("6225880112345678=2512", "6225880112345678"),  # track 2 without sentinels
        ("vip-000123", "VIP000123"),  # printed barcode
    ],
)
def test_card_uid_is_normalised_from_each_reader_format(scanned: str, uid: str) -> None:
    assert normalize_card_uid(scanned) == uid


@pytest.mark.parametrize(
    "scanned",
    [
        "",
        "   ",
        "ABC12",
        "A" * 33,
        "04A1B2C3!",
        "%B6225880112345678^ZHANG/SAN^2512?",
        ";=2512?",
        ";12345?",
        "会员卡123456",
    ],
)
def test_card_uid_in_no_known_format_is_refused(scanned: str) -> None:
    with pytest.raises(DomainError) as err:
        normalize_card_uid(scanned)
    assert err.value.code is ErrorCode.INVALID_CARD_UID


def test_mobile_is_masked_to_its_first_three_and_last_four_digits() -> None:
    assert mask_mobile("13812345678") == "138****5678"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("Alice Smith", "A***"),
        ("Bo", "B***"),
        ("王", "王"),
        ("", ""),
        ("  ", ""),
    ],
)
def test_name_is_masked_for_display(name: str, masked: str) -> None:
    assert mask_name(name) == masked


_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
_mobiles = st.builds(lambda second, rest: "1" + second + rest, st.sampled_from("3456789"), _digits)


@settings(max_examples=150)
@given(
    mobile=_mobiles,
    prefix=st.sampled_from(["", "+86", "+86 ", "0086", "86"]),
    sep=st.sampled_from(["", " ", "-"]),
)
def test_any_formatting_of_a_mobile_normalises_to_it_and_masks_the_middle(
    mobile: str, prefix: str, sep: str
) -> None:
    typed = prefix + mobile[:3] + sep + mobile[3:7] + sep + mobile[7:]
    assert normalize_mobile(typed) == mobile
    masked = mask_mobile(mobile)
    assert masked[:3] == mobile[:3] and masked[-4:] == mobile[-4:]
    assert masked[3:7] == "****"


@settings(max_examples=150)
@given(st.text(alphabet="0123456789abcdefABCDEF:- ", min_size=0, max_size=40))
def test_a_normalised_card_uid_normalises_to_itself(scanned: str) -> None:
    try:
        uid = normalize_card_uid(scanned)
    except DomainError as err:
        assert err.code is ErrorCode.INVALID_CARD_UID
        return
    assert normalize_card_uid(uid) == uid
    assert uid == uid.upper() and " " not in uid and ":" not in uid and "-" not in uid


# -- registration -----------------------------------------------------------------------


def test_registering_records_the_member_with_normalised_mobile_and_links_the_card() -> None:
    salon, _ = make_salon()
    events = salon.execute(
        RegisterMember(
            actor_id=DESK,
            name=" 李  娜 ",
            mobile="+86 139-0000-1111",
            gender=Gender.FEMALE,
            birthday=date(1990, 5, 1),
            birthday_lunar=True,
            source=SourceChannel.AD,
            tags=("敏感肌", " 敏感肌 ", "", "喜欢染发"),
            notes=" 对香味过敏 ",
            card_uid="04:a1:b2:c3",
        )
    )
    assert [type(e) for e in events] == [MemberRegistered, CardLinked]
    assert events[0].meta.at == events[1].meta.at
    assert events[0].meta.event_id != events[1].meta.event_id
    member_id = events[0].member_id  # type: ignore[attr-defined]
    member = salon.state.members.get(member_id)
    assert member.name == "李 娜"
    assert member.mobile == "13900001111"
    assert member.tags == ("敏感肌", "喜欢染发")
    assert member.notes == "对香味过敏"
    assert member.birthday == date(1990, 5, 1) and member.birthday_lunar
    assert member.store_id == "store-001" and not member.blacklisted
    assert salon.state.members.by_mobile("139 0000 1111") == member
    assert salon.state.members.by_card("04a1b2c3") == member
    assert salon.state.members.cards_of(member_id)[0].status is CardStatus.ACTIVE


def test_a_stylist_may_register_a_member_and_the_referrer_is_kept() -> None:
    salon, _ = make_salon()
    referrer = register(salon)
    events = salon.execute(
        RegisterMember(
            actor_id=STYLIST,
            name="Alice",
            mobile="13900001111",
            source=SourceChannel.REFERRAL,
            referrer_id=referrer,
        )
    )
    assert [type(e) for e in events] == [MemberRegistered]
    member = salon.state.members.get(events[0].member_id)  # type: ignore[attr-defined]
    assert member.referrer_id == referrer


def test_masked_member_shows_no_full_name_or_mobile() -> None:
    salon, _ = make_salon()
    member = salon.state.members.get(register(salon, name="欧阳娜娜"))
    shown = member.masked()
    assert (shown.name, shown.mobile) == ("欧***", "138****5678")
    assert MOBILE not in repr(shown) and "欧阳娜娜" not in repr(shown)


def test_a_name_of_32_characters_is_accepted() -> None:
    salon, _ = make_salon()
    member_id = register(salon, name="名" * 32)
    assert salon.state.members.get(member_id).name == "名" * 32


@pytest.mark.parametrize("name", ["", "   ", "名" * 33])
def test_registering_with_an_empty_or_long_name_is_refused(name: str) -> None:
    salon, _ = make_salon()
    assert_refused(
        salon, RegisterMember(actor_id=DESK, name=name, mobile=MOBILE), ErrorCode.INVALID_NAME
    )


def test_registering_with_an_invalid_mobile_is_refused() -> None:
    salon, _ = make_salon()
    assert_refused(
        salon, RegisterMember(actor_id=DESK, name="张三", mobile="12345"), ErrorCode.INVALID_MOBILE
    )


def test_registering_a_mobile_already_on_file_is_refused_with_it_masked() -> None:
    salon, _ = make_salon()
    register(salon)
    err = assert_refused(
        salon,
        RegisterMember(actor_id=DESK, name="李四", mobile="+86 138 1234 5678"),
        ErrorCode.MOBILE_TAKEN,
    )
    assert err.params == {"mobile_masked": "138****5678"}


def test_registering_with_an_unknown_referrer_is_refused() -> None:
    salon, _ = make_salon()
    assert_refused(
        salon,
        RegisterMember(actor_id=DESK, name="张三", mobile=MOBILE, referrer_id="nobody"),
        ErrorCode.UNKNOWN_MEMBER,
    )


def test_registering_with_a_card_another_member_holds_is_refused() -> None:
    salon, _ = make_salon()
    register(salon, card_uid="04A1B2C3")
    err = assert_refused(
        salon,
        RegisterMember(actor_id=DESK, name="李四", mobile="13900001111", card_uid="04:a1:b2:c3"),
        ErrorCode.CARD_TAKEN,
    )
    assert err.params == {"card_uid": "04A1B2C3"}


def test_registering_with_an_unreadable_card_is_refused() -> None:
    salon, _ = make_salon()
    assert_refused(
        salon,
        RegisterMember(actor_id=DESK, name="张三", mobile=MOBILE, card_uid="x!"),
        ErrorCode.INVALID_CARD_UID,
    )


def test_registering_with_a_birthday_in_the_future_is_refused() -> None:
    salon, clock = make_salon()
    tomorrow = clock.now.date() + timedelta(days=1)
    assert_refused(
        salon,
        RegisterMember(actor_id=DESK, name="张三", mobile=MOBILE, birthday=tomorrow),
        ErrorCode.INVALID_INPUT,
    )


def test_hq_may_not_register_members_at_the_till() -> None:
    salon, _ = make_salon()
    assert_refused(
        salon,
        RegisterMember(actor_id=HQ_ACTOR, name="张三", mobile=MOBILE),
        ErrorCode.PERMISSION_DENIED,
    )


def test_looking_up_an_unknown_mobile_or_card_is_refused_without_the_full_mobile() -> None:
    salon, _ = make_salon()
    with pytest.raises(DomainError) as err:
        salon.state.members.by_mobile(MOBILE)
    assert err.value.code is ErrorCode.UNKNOWN_MEMBER
    assert MOBILE not in str(err.value.params)
    with pytest.raises(DomainError) as err:
        salon.state.members.by_card("04A1B2C3")
    assert err.value.code is ErrorCode.UNKNOWN_CARD
    with pytest.raises(DomainError) as err:
        salon.state.members.get("nobody")
    assert err.value.code is ErrorCode.UNKNOWN_MEMBER


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["13800000001", "13800000002", "+86 138 0000 0003", "8613800000001", "13800000004"]
        ),
        max_size=8,
    )
)
def test_each_mobile_belongs_to_at_most_one_member(mobiles: list[str]) -> None:
    salon, _ = make_salon()
    for mobile in mobiles:
        try:
            register(salon, mobile=mobile)
        except DomainError as err:
            assert err.code is ErrorCode.MOBILE_TAKEN
    book = salon.state.members
    assert len(book.members) == len({normalize_mobile(m) for m in mobiles})
    assert {m.mobile: m.member_id for m in book.members.values()} == book.mobile_index


# -- profile ----------------------------------------------------------------------------


def test_updating_the_profile_changes_only_the_given_fields_and_records_all_of_them() -> None:
    salon, _ = make_salon()
    member_id = register(salon, birthday=date(1990, 5, 1), tags=("敏感肌",), notes="n")
    events = salon.execute(
        UpdateMemberProfile(
            actor_id=DESK, member_id=member_id, gender=Gender.MALE, tags=("喜欢染发",)
        )
    )
    (event,) = events
    assert isinstance(event, MemberProfileUpdated)
    assert (event.name, event.mobile, event.birthday, event.notes) == (
        "张三",
        MOBILE,
        date(1990, 5, 1),
        "n",
    )
    member = salon.state.members.get(member_id)
    assert member.gender is Gender.MALE and member.tags == ("喜欢染发",)


def test_changing_the_mobile_moves_the_lookup_to_the_new_number() -> None:
    salon, _ = make_salon()
    member_id = register(salon)
    salon.execute(UpdateMemberProfile(actor_id=DESK, member_id=member_id, mobile="139-0000-1111"))
    assert salon.state.members.by_mobile("13900001111").member_id == member_id
    with pytest.raises(DomainError):
        salon.state.members.by_mobile(MOBILE)


def test_clearing_the_birthday_removes_it() -> None:
    salon, _ = make_salon()
    member_id = register(salon, birthday=date(1990, 5, 1))
    salon.execute(UpdateMemberProfile(actor_id=DESK, member_id=member_id, clear_birthday=True))
    assert salon.state.members.get(member_id).birthday is None


def test_an_update_that_changes_nothing_records_nothing() -> None:
    salon, _ = make_salon()
    member_id = register(salon)
    assert (
        salon.execute(
            UpdateMemberProfile(
                actor_id=DESK, member_id=member_id, mobile="+86 138 1234 5678", name="张三"
            )
        )
        == ()
    )


def test_setting_and_clearing_the_birthday_at_once_is_refused() -> None:
    salon, _ = make_salon()
    member_id = register(salon)
    assert_refused(
        salon,
        UpdateMemberProfile(
            actor_id=DESK, member_id=member_id, birthday=date(1990, 1, 1), clear_birthday=True
        ),
        ErrorCode.INVALID_INPUT,
    )


def test_changing_to_another_members_mobile_is_refused() -> None:
    salon, _ = make_salon()
    register(salon)
    other = register(salon, mobile="13900001111", name="李四")
    assert_refused(
        salon,
        UpdateMemberProfile(actor_id=DESK, member_id=other, mobile=MOBILE),
        ErrorCode.MOBILE_TAKEN,
    )


def test_updating_with_an_invalid_name_or_mobile_is_refused() -> None:
    salon, _ = make_salon()
    member_id = register(salon)
    assert_refused(
        salon,
        UpdateMemberProfile(actor_id=DESK, member_id=member_id, name=" "),
        ErrorCode.INVALID_NAME,
    )
    assert_refused(
        salon,
        UpdateMemberProfile(actor_id=DESK, member_id=member_id, mobile="1"),
        ErrorCode.INVALID_MOBILE,
    )


def test_updating_an_unknown_member_or_without_permission_is_refused() -> None:
    salon, _ = make_salon()
    member_id = register(salon)
    assert_refused(
        salon,
        UpdateMemberProfile(actor_id=DESK, member_id="nobody", notes="x"),
        ErrorCode.UNKNOWN_MEMBER,
    )
    assert_refused(
        salon,
        UpdateMemberProfile(actor_id=STYLIST, member_id=member_id, notes="x"),
        ErrorCode.PERMISSION_DENIED,
    )


# -- cards ------------------------------------------------------------------------------


def test_a_member_may_hold_several_cards_and_an_unlinked_card_is_free_again() -> None:
    salon, _ = make_salon()
    member_id = register(salon, card_uid="04A1B2C3")
    salon.execute(LinkCard(actor_id=DESK, member_id=member_id, card_uid="vip-000123"))
    assert {c.card_uid for c in salon.state.members.cards_of(member_id)} == {
        "04A1B2C3",
        "VIP000123",
    }
    salon.execute(UnlinkCard(actor_id=DESK, member_id=member_id, card_uid="04:A1:B2:C3"))
    with pytest.raises(DomainError) as err:
        salon.state.members.by_card("04A1B2C3")
    assert err.value.code is ErrorCode.UNKNOWN_CARD
    other = register(salon, mobile="13900001111", name="李四")
    salon.execute(LinkCard(actor_id=DESK, member_id=other, card_uid="04A1B2C3"))
    assert salon.state.members.by_card("04A1B2C3").member_id == other


def test_linking_a_card_already_linked_is_refused_even_to_the_same_member() -> None:
    salon, _ = make_salon()
    member_id = register(salon, card_uid="04A1B2C3")
    assert_refused(
        salon,
        LinkCard(actor_id=DESK, member_id=member_id, card_uid="04a1b2c3"),
        ErrorCode.CARD_TAKEN,
    )


def test_linking_a_blocked_card_is_refused() -> None:
    salon, _ = make_salon()
    register(salon, card_uid="04A1B2C3")
    salon.execute(BlockCard(actor_id=DESK, card_uid="04A1B2C3", reason="顾客报失"))
    other = register(salon, mobile="13900001111", name="李四")
    assert_refused(
        salon, LinkCard(actor_id=DESK, member_id=other, card_uid="04A1B2C3"), ErrorCode.CARD_TAKEN
    )


def test_linking_needs_a_known_member_a_readable_card_and_permission() -> None:
    salon, _ = make_salon()
    member_id = register(salon)
    assert_refused(
        salon,
        LinkCard(actor_id=DESK, member_id="nobody", card_uid="04A1B2C3"),
        ErrorCode.UNKNOWN_MEMBER,
    )
    assert_refused(
        salon,
        LinkCard(actor_id=DESK, member_id=member_id, card_uid="??"),
        ErrorCode.INVALID_CARD_UID,
    )
    assert_refused(
        salon,
        LinkCard(actor_id=STYLIST, member_id=member_id, card_uid="04A1B2C3"),
        ErrorCode.PERMISSION_DENIED,
    )


def test_unlinking_a_card_the_member_does_not_hold_is_refused() -> None:
    salon, _ = make_salon()
    register(salon, card_uid="04A1B2C3")
    other = register(salon, mobile="13900001111", name="李四")
    err = assert_refused(
        salon,
        UnlinkCard(actor_id=DESK, member_id=other, card_uid="04A1B2C3"),
        ErrorCode.CARD_NOT_LINKED,
    )
    assert err.params == {"card_uid": "04A1B2C3", "member_id": other}
    assert_refused(
        salon,
        UnlinkCard(actor_id=DESK, member_id=other, card_uid="DEADBEEF"),
        ErrorCode.CARD_NOT_LINKED,
    )


def test_unlinking_a_blocked_card_is_refused_so_a_lost_card_stays_unusable() -> None:
    salon, _ = make_salon()
    member_id = register(salon, card_uid="04A1B2C3")
    salon.execute(BlockCard(actor_id=DESK, card_uid="04A1B2C3", reason="顾客报失"))
    assert_refused(
        salon,
        UnlinkCard(actor_id=DESK, member_id=member_id, card_uid="04A1B2C3"),
        ErrorCode.CARD_BLOCKED,
    )


def test_a_blocked_card_is_refused_at_lookup_with_its_reason() -> None:
    salon, _ = make_salon()
    member_id = register(salon, card_uid="04A1B2C3")
    (event,) = salon.execute(BlockCard(actor_id=DESK, card_uid="04:a1:b2:c3", reason=" 顾客报失 "))
    assert isinstance(event, CardBlocked)
    assert (event.member_id, event.card_uid, event.reason) == (member_id, "04A1B2C3", "顾客报失")
    with pytest.raises(DomainError) as err:
        salon.state.members.by_card("04A1B2C3")
    assert err.value.code is ErrorCode.CARD_BLOCKED
    assert err.value.params == {"card_uid": "04A1B2C3", "reason": "顾客报失"}
    assert salon.state.members.card_link("04A1B2C3").status is CardStatus.BLOCKED


def test_blocking_needs_a_reason_a_known_card_and_permission() -> None:
    salon, _ = make_salon()
    register(salon, card_uid="04A1B2C3")
    assert_refused(
        salon, BlockCard(actor_id=DESK, card_uid="04A1B2C3", reason=" "), ErrorCode.REASON_REQUIRED
    )
    assert_refused(
        salon, BlockCard(actor_id=DESK, card_uid="DEADBEEF", reason="lost"), ErrorCode.UNKNOWN_CARD
    )
    assert_refused(
        salon,
        BlockCard(actor_id=STYLIST, card_uid="04A1B2C3", reason="lost"),
        ErrorCode.PERMISSION_DENIED,
    )


def test_blocking_a_card_twice_is_refused() -> None:
    salon, _ = make_salon()
    register(salon, card_uid="04A1B2C3")
    salon.execute(BlockCard(actor_id=DESK, card_uid="04A1B2C3", reason="lost"))
    assert_refused(
        salon,
        BlockCard(actor_id=DESK, card_uid="04A1B2C3", reason="lost again"),
        ErrorCode.CARD_BLOCKED,
    )


# -- blacklist --------------------------------------------------------------------------


def test_blacklisting_is_audited_in_the_same_commit_and_lifting_it_too() -> None:
    salon, _ = make_salon()
    member_id = register(salon)
    events = salon.execute(
        BlacklistMember(actor_id=MANAGER, member_id=member_id, reason="欠款不还")
    )
    assert [type(e) for e in events] == [MemberBlacklisted, SensitiveActAudited]
    trail = events[1]
    assert isinstance(trail, SensitiveActAudited)
    assert (trail.act, trail.subject_id, trail.reason) == (
        Permission.BLACKLIST,
        member_id,
        "欠款不还",
    )
    assert events[0].meta.at == trail.meta.at
    assert salon.state.members.get(member_id).blacklisted
    with pytest.raises(DomainError) as err:
        salon.state.members.not_blacklisted(member_id)
    assert err.value.code is ErrorCode.MEMBER_BLACKLISTED
    salon.execute(UnblacklistMember(actor_id=MANAGER, member_id=member_id, reason="已还清"))
    assert salon.state.members.not_blacklisted(member_id).blacklist_reason == ""
    blacklist_log = [a for a in salon.state.staff.audit_log if a.act is Permission.BLACKLIST]
    assert [a.reason for a in blacklist_log] == ["欠款不还", "已还清"]


def test_blacklisting_needs_a_manager_a_reason_and_a_known_member() -> None:
    salon, _ = make_salon()
    member_id = register(salon)
    assert_refused(
        salon,
        BlacklistMember(actor_id=DESK, member_id=member_id, reason="x"),
        ErrorCode.PERMISSION_DENIED,
    )
    assert_refused(
        salon,
        BlacklistMember(actor_id=MANAGER, member_id=member_id, reason=""),
        ErrorCode.REASON_REQUIRED,
    )
    assert_refused(
        salon,
        BlacklistMember(actor_id=MANAGER, member_id="nobody", reason="x"),
        ErrorCode.UNKNOWN_MEMBER,
    )


def test_blacklisting_twice_is_refused() -> None:
    salon, _ = make_salon()
    member_id = register(salon)
    salon.execute(BlacklistMember(actor_id=MANAGER, member_id=member_id, reason="欠款不还"))
    assert_refused(
        salon,
        BlacklistMember(actor_id=MANAGER, member_id=member_id, reason="x"),
        ErrorCode.MEMBER_BLACKLISTED,
    )


def test_lifting_a_blacklist_that_is_not_there_or_without_reason_is_refused() -> None:
    salon, _ = make_salon()
    member_id = register(salon)
    assert_refused(
        salon,
        UnblacklistMember(actor_id=MANAGER, member_id=member_id, reason="x"),
        ErrorCode.INVALID_INPUT,
    )
    salon.execute(BlacklistMember(actor_id=MANAGER, member_id=member_id, reason="欠款不还"))
    assert_refused(
        salon,
        UnblacklistMember(actor_id=MANAGER, member_id=member_id, reason=" "),
        ErrorCode.REASON_REQUIRED,
    )
    assert_refused(
        salon,
        UnblacklistMember(actor_id=DESK, member_id=member_id, reason="x"),
        ErrorCode.PERMISSION_DENIED,
    )
