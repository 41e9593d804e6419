"""A phone number is one number however it is typed: full-width or other scripts' digits are the
same ASCII number, and only real mainland mobile segments are numbers at all."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.people import normalise_id_number, normalise_phone
from tenants.manifests import ManifestError, parse_manifest
from tests.conftest import ALPHA
from tests.support import PASSWORD, Api, TenantHandle, fresh_phone

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Decimal digits of other scripts that look like or stand for 0–9.
DIGIT_SCRIPTS = ("0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "０１２３４５６７８９", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗")

mobiles = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["130", "139", "145", "150", "153", "166", "170", "178", "186", "191", "199"]),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


@given(mobiles, st.lists(st.integers(0, len(DIGIT_SCRIPTS) - 1), min_size=11, max_size=11))
def test_any_script_of_digits_is_the_same_ascii_number(number: str, scripts: list[int]) -> None:
    typed = "".join(DIGIT_SCRIPTS[script][int(d)] for d, script in zip(number, scripts, strict=True))
    assert normalise_phone(typed) == number
    assert normalise_phone(f"+86 {typed[:3]}-{typed[3:7]}-{typed[7:]}") == number


@given(st.text(max_size=20))
def test_whatever_is_typed_a_phone_is_eleven_ascii_digits_or_nothing(raw: str) -> None:
    phone = normalise_phone(raw)
    assert phone is None or (phone.isascii() and phone.isdigit() and len(phone) == 11)


@pytest.mark.parametrize(
    "raw",
    [
        "12345678901",  # no mobile starts with 12
        "14012345678",  # 140 is not a mobile segment
        "15412345678",  # nor 154
        "1380013800",  # ten digits
        "138001380001",  # twelve
        "1380013800\u200b0",  # an invisible character inside
        "138OO138000",  # letters O for zeros
        "+8713800138000",
        "",
    ],
)
def test_what_is_not_a_mainland_mobile_is_refused(raw: str) -> None:
    assert normalise_phone(raw) is None


def test_identity_card_numbers_take_the_same_digits() -> None:
    assert normalise_id_number("11010519491231002X".translate(ARABIC_INDIC)) == "11010519491231002X"


async def test_a_look_alike_of_a_registered_phone_is_the_same_phone(api: Api, alpha: TenantHandle) -> None:
    phone = fresh_phone()
    assert (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone))["errors"] == []
    look_alike = phone[:8] + phone[8:].translate(ARABIC_INDIC)
    again = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=look_alike)
    assert [e["code"] for e in again["errors"]] == ["PHONE_TAKEN"]
    signed_in = await api.login("alpha", look_alike, PASSWORD)
    assert signed_in["errors"] == []
    me = await api.data("{ me { phone } }", token=signed_in["tokens"]["accessToken"])
    assert me["me"]["phone"] == phone


def test_manifest_phones_are_normalised_wherever_they_appear() -> None:
    manifest = copy.deepcopy(ALPHA)
    manifest["staff"][2]["phone"] = "１３９００００００１１"  # full-width
    manifest["communities"][0]["grids"][0]["worker"] = "+86 139-0000-0011"
    parsed = parse_manifest(manifest, "alpha.toml")
    assert parsed.staff[2].phone == "13900000011"
    assert parsed.communities[0].grids[0].worker == "13900000011"


def test_a_manifest_with_a_look_alike_twin_is_refused() -> None:
    manifest = copy.deepcopy(ALPHA)
    twin = dict(manifest["staff"][0], phone=manifest["staff"][0]["phone"].translate(ARABIC_INDIC))
    manifest["staff"].append(twin)
    with pytest.raises(ManifestError) as error:
        parse_manifest(manifest, "alpha.toml")
    assert error.value.problems == ["alpha.toml: staff: “13900000001”重复出现"]
