"""Korean plate grammar: every format parses into its parts; anything else says why not."""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anpr_core.plates import (
    InvalidPlate,
    PlateFormat,
    PlateUse,
    VehicleClass,
    is_valid_plate,
    parse_plate,
    plate_search_fields,
    random_plate,
)


@pytest.mark.parametrize(
    ("raw", "fmt", "region", "class_digits", "use_char", "use", "serial"),
    [
        ("12가3456", PlateFormat.OLD7, None, "12", "가", PlateUse.PRIVATE, "3456"),
        ("123가4567", PlateFormat.NEW8, None, "123", "가", PlateUse.PRIVATE, "4567"),
        ("서울12가3456", PlateFormat.REGIONAL, "서울", "12", "가", PlateUse.PRIVATE, "3456"),
        ("경기71아1448", PlateFormat.REGIONAL, "경기", "71", "아", PlateUse.COMMERCIAL, "1448"),
        ("제주79바4470", PlateFormat.REGIONAL, "제주", "79", "바", PlateUse.COMMERCIAL, "4470"),
        ("05육2107", PlateFormat.OLD7, None, "05", "육", PlateUse.MILITARY, "2107"),
        ("12국1720", PlateFormat.OLD7, None, "12", "국", PlateUse.MILITARY, "1720"),
        ("34하5678", PlateFormat.OLD7, None, "34", "하", PlateUse.RENTAL, "5678"),
        ("101허2345", PlateFormat.NEW8, None, "101", "허", PlateUse.RENTAL, "2345"),
        ("서울80배7171", PlateFormat.REGIONAL, "서울", "80", "배", PlateUse.DELIVERY, "7171"),
        ("외교123045", PlateFormat.DIPLOMATIC, None, "123", "외교", PlateUse.DIPLOMATIC, "045"),
    ],
)
def test_plates_parse_into_their_parts(
    raw: str,
    fmt: PlateFormat,
    region: str | None,
    class_digits: str,
    use_char: str,
    use: PlateUse,
    serial: str,
) -> None:
    plate = parse_plate(raw)
    assert (plate.text, plate.format, plate.region) == (raw, fmt, region)
    assert (plate.class_digits, plate.use_char, plate.use, plate.serial) == (
        class_digits,
        use_char,
        use,
        serial,
    )


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("12 가 3456", "12가3456"),
        ("12가-3456", "12가3456"),
        ("１２가３４５６", "12가3456"),
        (unicodedata.normalize("NFD", "서울12가3456"), "서울12가3456"),
        ("  123가 4567 ", "123가4567"),
        ("외교 123-045", "외교123045"),
    ],
)
def test_spacing_hyphens_fullwidth_and_decomposed_jamo_are_normalised(raw: str, canonical: str) -> None:
    assert parse_plate(raw).text == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("12X3456", "characters not used on plates: X"),
        ("1234567", "no Hangul use character"),
        ("12가345", "serial after the use character must be 4 digits"),
        ("1가3456", "class digits before the use character must be 2 or 3"),
        ("부평12가3456", "'부평' is not a region name"),
        ("12김3456", "'김' is not a use character"),
        ("00가1234", "class digits cannot be all zero"),
    ],
)
def test_invalid_plates_are_rejected_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPlate) as err:
        parse_plate(raw)
    assert reason in err.value.reason
    assert not is_valid_plate(raw)


def test_vehicle_class_follows_the_class_digits() -> None:
    assert parse_plate("12가3456").vehicle_class is VehicleClass.PASSENGER
    assert parse_plate("75가3456").vehicle_class is VehicleClass.VAN
    assert parse_plate("850바3456").vehicle_class is VehicleClass.TRUCK
    assert parse_plate("998가3456").vehicle_class is VehicleClass.EMERGENCY
    assert parse_plate("05육2107").vehicle_class is VehicleClass.MILITARY


def test_search_fields_support_suffix_and_serial_search() -> None:
    fields = plate_search_fields(parse_plate("서울12가3456"))
    assert fields["plate_reversed"] == "6543가21울서"
    assert fields["serial"] == "3456"
    assert fields["digits"] == "123456"
    assert fields["region"] == "서울"
    assert fields["use"] == "private"


seeds = st.integers(min_value=0, max_value=2**32)


@settings(max_examples=150, deadline=None)
@given(seeds)
def test_generated_plates_round_trip(seed: int) -> None:
    plate = random_plate(random.Random(seed))
    again = parse_plate(plate.text)
    assert again == plate
    assert parse_plate(again.text).text == again.text  # canonical form is a fixed point


@settings(max_examples=150, deadline=None)
@given(seeds, st.lists(st.sampled_from([" ", "-", "\u3000", "  "]), min_size=1, max_size=4), st.booleans())
def test_separators_fullwidth_and_nfd_variants_normalise_to_the_same_plate(
    seed: int, separators: list[str], nfd: bool
) -> None:
    plate = random_plate(random.Random(seed))
    rng = random.Random(seed)
    chars = [chr(ord(c) - ord("0") + 0xFF10) if c.isdigit() and rng.random() < 0.5 else c for c in plate.text]
    for sep in separators:
        chars.insert(rng.randrange(len(chars) + 1), sep)
    variant = "".join(chars)
    if nfd:
        variant = unicodedata.normalize("NFD", variant)
    assert parse_plate(variant).text == plate.text


@settings(max_examples=100, deadline=None)
@given(seeds, st.sampled_from(list(PlateFormat)), st.sampled_from(list(PlateUse)))
def test_generator_honours_requested_format_and_use(seed: int, fmt: PlateFormat, use: PlateUse) -> None:
    plate = random_plate(random.Random(seed), fmt, use)
    assert plate.format is fmt
    if fmt is not PlateFormat.DIPLOMATIC and use is not PlateUse.DIPLOMATIC:
        assert plate.use is use
