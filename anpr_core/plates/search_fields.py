"""Keyword fields that make partial plate search fast without n-gram analysers."""

from __future__ import annotations

from anpr_core.plates.grammar import Plate


def plate_search_fields(plate: Plate) -> dict[str, str]:
    return {
        "plate": plate.text,
        # `*3456` becomes a prefix query on the reversed plate: fast on a keyword field.
        "plate_reversed": plate.text[::-1],
        "serial": plate.serial,
        "digits": "".join(ch for ch in plate.text if ch.isdigit()),
        "use_char": plate.use_char,
        "format": plate.format.value,
        "use": plate.use.value,
        "region": plate.region or "",
        "class_digits": plate.class_digits,
        "vehicle_class": plate.vehicle_class.value,
    }
