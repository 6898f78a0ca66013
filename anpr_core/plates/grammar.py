"""Korean plate grammar: parse a plate string into its parts, or say why it is not a plate.

Formats (canonical text has no spaces):
- ``NEW8``     ``123가4567``   3 class digits (2019 onwards)
- ``OLD7``     ``12가3456``    2 class digits (2006 onwards, national)
- ``REGIONAL`` ``서울12가3456`` region + 1-2 class digits (before 2006; still on commercial plates)
- ``DIPLOMATIC`` ``외교123045`` prefix + 3-digit country code + 3-digit serial
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from anpr_core.plates.alphabet import DIPLOMATIC_PREFIXES, REGIONS, USE_OF_CHAR, PlateUse
from anpr_core.plates.errors import InvalidPlate
from anpr_core.plates.normalize import normalize_plate_text


class PlateFormat(StrEnum):
    NEW8 = "new8"
    OLD7 = "old7"
    REGIONAL = "regional"
    DIPLOMATIC = "diplomatic"


class VehicleClass(StrEnum):
    PASSENGER = "passenger"
    VAN = "van"
    TRUCK = "truck"
    SPECIAL = "special"
    EMERGENCY = "emergency"
    MILITARY = "military"
    DIPLOMATIC = "diplomatic"


@dataclass(frozen=True, slots=True)
class Plate:
    text: str
    format: PlateFormat
    region: str | None
    class_digits: str
    use_char: str
    use: PlateUse
    serial: str

    @property
    def vehicle_class(self) -> VehicleClass:
        if self.use is PlateUse.DIPLOMATIC:
            return VehicleClass.DIPLOMATIC
        if self.use is PlateUse.MILITARY:
            return VehicleClass.MILITARY
        return vehicle_class_of(self.class_digits)

    @property
    def two_line_layout_possible(self) -> bool:
        """Regional and commercial plates are also made as two-line (335×155 mm) plates."""
        return self.format is PlateFormat.REGIONAL or self.use is not PlateUse.PRIVATE


_REGION_ALT = "|".join(REGIONS)
_DIPLO_ALT = "|".join(DIPLOMATIC_PREFIXES)
_PLATE_RE = re.compile(
    rf"^(?:(?P<region>{_REGION_ALT})(?P<rclass>\d{{1,2}})|(?P<class>\d{{2,3}}))"
    r"(?P<use>[가-힣])(?P<serial>\d{4})$"
)
_DIPLOMATIC_RE = re.compile(rf"^(?P<prefix>{_DIPLO_ALT})(?P<country>\d{{3}})(?P<serial>\d{{3}})$")


def vehicle_class_of(class_digits: str) -> VehicleClass:
    """Vehicle type from the class digits (same ranges for 2- and 3-digit systems, ×10)."""
    value = int(class_digits)
    scaled = value * 10 if len(class_digits) == 2 else value
    if len(class_digits) == 1:
        scaled = value * 100
    if scaled < 700:
        return VehicleClass.PASSENGER
    if scaled < 800:
        return VehicleClass.VAN
    if scaled < 980:
        return VehicleClass.TRUCK
    if scaled < 998:
        return VehicleClass.SPECIAL
    return VehicleClass.EMERGENCY


# Plates repeat (the same car passes many cameras; the indexer parses each read twice) and a
# Plate is immutable, so parsed plates are shared.
@lru_cache(maxsize=65_536)
def parse_plate(raw: str) -> Plate:
    text = normalize_plate_text(raw)
    diplomatic = _DIPLOMATIC_RE.match(text)
    if diplomatic:
        return Plate(
            text=text,
            format=PlateFormat.DIPLOMATIC,
            region=None,
            class_digits=diplomatic["country"],
            use_char=diplomatic["prefix"],
            use=PlateUse.DIPLOMATIC,
            serial=diplomatic["serial"],
        )
    match = _PLATE_RE.match(text)
    if match is None:
        raise InvalidPlate(raw, _explain(text))
    use = USE_OF_CHAR.get(match["use"])
    if use is None:
        raise InvalidPlate(raw, f"'{match['use']}' is not a use character on Korean plates")
    if match["region"]:
        class_digits, fmt = match["rclass"], PlateFormat.REGIONAL
    else:
        class_digits = match["class"]
        fmt = PlateFormat.NEW8 if len(class_digits) == 3 else PlateFormat.OLD7
    if use is not PlateUse.MILITARY and int(class_digits) == 0:
        raise InvalidPlate(raw, "class digits cannot be all zero")
    return Plate(
        text=text,
        format=fmt,
        region=match["region"],
        class_digits=class_digits,
        use_char=match["use"],
        use=use,
        serial=match["serial"],
    )


def _explain(text: str) -> str:
    if re.search(r"[^0-9가-힣]", text):
        bad = sorted(set(re.findall(r"[^0-9가-힣]", text)))
        return f"characters not used on plates: {' '.join(bad)}"
    if not re.search(r"[가-힣]", text):
        return "no Hangul use character (e.g. 가, 바, 하)"
    tail = re.search(r"(\d*)$", text)
    if tail is not None and len(tail.group(1)) != 4:
        return f"the serial after the use character must be 4 digits, got {len(tail.group(1))}"
    head = re.match(r"^([가-힣]*)(\d*)", text)
    if head is not None and head.group(1) and head.group(1) not in REGIONS:
        return f"'{head.group(1)}' is not a region name (서울, 경기, …)"
    if head is not None and not head.group(1) and len(head.group(2)) not in (2, 3):
        return f"class digits before the use character must be 2 or 3, got {len(head.group(2))}"
    return "does not match any Korean plate format (12가3456, 123가4567, 서울12가3456)"


def try_parse_plate(raw: str) -> Plate | None:
    try:
        return parse_plate(raw)
    except InvalidPlate:
        return None


def is_valid_plate(raw: str) -> bool:
    return try_parse_plate(raw) is not None
