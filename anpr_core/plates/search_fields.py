"""Keyword fields that make partial plate search fast without n-gram analysers."""

from __future__ import annotations

from anpr_core.plates.grammar import Plate

# Canonical plates hold only ASCII digits and Hangul syllables: deleting the Hangul leaves the digits.
_NOT_DIGITS = {code: None for code in range(0xAC00, 0xD7A4)}


def plate_search_fields(plate: Plate) -> dict[str, str]:
    return {
        "plate": plate.text,
        # `*3456` becomes a prefix query on the reversed plate: fast on a keyword field.
        "plate_reversed": plate.text[::-1],
        "serial": plate.serial,
        "digits": plate.text.translate(_NOT_DIGITS),
        "use_char": plate.use_char,
        "format": plate.format.value,
        "use": plate.use.value,
        "region": plate.region or "",
        "class_digits": plate.class_digits,
        "vehicle_class": plate.vehicle_class.value,
    }
