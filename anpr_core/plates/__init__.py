"""Korean licence plates: grammar, canonical form, patterns and the OCR-confusion model.

Every read, search and watchlist entry goes through here before it is stored or compared.
"""

from anpr_core.plates.alphabet import (
    DIPLOMATIC_PREFIXES,
    PLATE_ALPHABET,
    REGIONS,
    USE_CHARS,
    USE_CHARS_BY_USE,
    PlateUse,
)
from anpr_core.plates.confusion import ConfusionModel
from anpr_core.plates.errors import InvalidPattern, InvalidPlate
from anpr_core.plates.generate import random_plate
from anpr_core.plates.grammar import (
    Plate,
    PlateFormat,
    VehicleClass,
    is_valid_plate,
    parse_plate,
    try_parse_plate,
)
from anpr_core.plates.normalize import normalize_plate_text
from anpr_core.plates.patterns import PatternKind, PlatePattern
from anpr_core.plates.search_fields import plate_search_fields

__all__ = [
    "DIPLOMATIC_PREFIXES",
    "PLATE_ALPHABET",
    "REGIONS",
    "USE_CHARS",
    "USE_CHARS_BY_USE",
    "ConfusionModel",
    "InvalidPattern",
    "InvalidPlate",
    "PatternKind",
    "Plate",
    "PlateFormat",
    "PlatePattern",
    "PlateUse",
    "VehicleClass",
    "is_valid_plate",
    "normalize_plate_text",
    "parse_plate",
    "plate_search_fields",
    "random_plate",
    "try_parse_plate",
]
