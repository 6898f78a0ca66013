"""The characters of Korean licence plates and what the use characters mean."""

from __future__ import annotations

from enum import StrEnum


class PlateUse(StrEnum):
    PRIVATE = "private"  # 비사업용 (자가용)
    COMMERCIAL = "commercial"  # 사업용 (택시, 버스, 화물)
    RENTAL = "rental"  # 대여사업용 (렌터카)
    DELIVERY = "delivery"  # 택배 (배)
    MILITARY = "military"  # 군용
    DIPLOMATIC = "diplomatic"  # 외교용


USE_CHARS_BY_USE: dict[PlateUse, tuple[str, ...]] = {
    PlateUse.PRIVATE: tuple("가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주"),
    PlateUse.COMMERCIAL: tuple("바사아자"),
    PlateUse.RENTAL: tuple("하허호"),
    PlateUse.DELIVERY: ("배",),
    PlateUse.MILITARY: tuple("육해공국합"),
}
USE_OF_CHAR: dict[str, PlateUse] = {ch: use for use, chars in USE_CHARS_BY_USE.items() for ch in chars}
USE_CHARS: tuple[str, ...] = tuple(USE_OF_CHAR)

# Old regional plates (before 2004) print the province or metropolitan city on the plate.
REGIONS: tuple[str, ...] = (
    "서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종",
    "경기", "강원", "충북", "충남", "전북", "전남", "경북", "경남", "제주",
)  # fmt: skip

# Diplomatic plates: a two-syllable prefix, a 3-digit country code and a 3-digit serial.
DIPLOMATIC_PREFIXES: tuple[str, ...] = ("외교", "영사", "준외", "준영", "국기", "협정", "대표")

DIGITS = "0123456789"

# Every character a canonical plate can contain, in a fixed order: the recogniser's dictionary.
PLATE_ALPHABET: tuple[str, ...] = tuple(
    sorted(set(DIGITS) | set(USE_CHARS) | {ch for name in REGIONS + DIPLOMATIC_PREFIXES for ch in name})
)
