"""Korean plate styles: size, colours and layout of every plate type."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from anpr_core.plates import Plate, PlateFormat, PlateUse

RGB = tuple[int, int, int]


# Sizes: one-line plates 520×110 mm; two-line plates 335×170 mm for passenger cars (the real
# green and yellow two-line crops measure about 2:1 too).
class PlateStyle(StrEnum):
    WHITE_NEW8 = "white_new8"  # 2019+ one-line, 520×110 mm (with the blue hologram band variant)
    WHITE_OLD7 = "white_old7"  # 2006+ one-line, 520×110 mm
    WHITE_REGIONAL = "white_regional"  # 2004–2006 one-line with region, 520×110 mm
    GREEN_TWO_LINE = "green_two_line"  # before 2004: white characters on green, 335×170 mm
    YELLOW_ONE_LINE = "yellow_one_line"  # commercial / delivery, 520×110 mm
    YELLOW_TWO_LINE = "yellow_two_line"  # commercial / delivery, 335×170 mm
    BLUE_EV = "blue_ev"  # electric vehicles, light blue, 520×110 mm
    ORANGE_CONSTRUCTION = "orange_construction"  # construction machinery, 335×170 mm
    NAVY_DIPLOMATIC = "navy_diplomatic"  # diplomatic, white on navy, 520×110 mm


@dataclass(frozen=True)
class StyleSpec:
    width_mm: int
    height_mm: int
    background: RGB
    ink: RGB
    two_line: bool


STYLE_SPECS: dict[PlateStyle, StyleSpec] = {
    PlateStyle.WHITE_NEW8: StyleSpec(520, 110, (236, 238, 236), (20, 20, 20), False),
    PlateStyle.WHITE_OLD7: StyleSpec(520, 110, (236, 238, 236), (20, 20, 20), False),
    PlateStyle.WHITE_REGIONAL: StyleSpec(520, 110, (236, 238, 236), (20, 20, 20), False),
    PlateStyle.GREEN_TWO_LINE: StyleSpec(335, 170, (38, 102, 64), (236, 240, 236), True),
    PlateStyle.YELLOW_ONE_LINE: StyleSpec(520, 110, (240, 196, 40), (20, 20, 20), False),
    PlateStyle.YELLOW_TWO_LINE: StyleSpec(335, 170, (240, 196, 40), (20, 20, 20), True),
    PlateStyle.BLUE_EV: StyleSpec(520, 110, (120, 180, 225), (15, 25, 45), False),
    PlateStyle.ORANGE_CONSTRUCTION: StyleSpec(335, 170, (235, 120, 30), (20, 20, 20), True),
    PlateStyle.NAVY_DIPLOMATIC: StyleSpec(520, 110, (25, 40, 90), (240, 240, 240), False),
}


def styles_for(plate: Plate) -> dict[PlateStyle, float]:
    """The styles a real plate with this text can have, weighted by how common they are."""
    if plate.format is PlateFormat.DIPLOMATIC:
        return {PlateStyle.NAVY_DIPLOMATIC: 1.0}
    commercial = plate.use in (PlateUse.COMMERCIAL, PlateUse.DELIVERY)
    if commercial:
        return {PlateStyle.YELLOW_ONE_LINE: 0.5, PlateStyle.YELLOW_TWO_LINE: 0.5}
    if plate.format is PlateFormat.REGIONAL:
        return {
            PlateStyle.WHITE_REGIONAL: 0.4,
            PlateStyle.GREEN_TWO_LINE: 0.45,
            PlateStyle.ORANGE_CONSTRUCTION: 0.15,
        }
    if plate.format is PlateFormat.NEW8:
        return {PlateStyle.WHITE_NEW8: 0.85, PlateStyle.BLUE_EV: 0.15}
    return {PlateStyle.WHITE_OLD7: 0.75, PlateStyle.GREEN_TWO_LINE: 0.15, PlateStyle.BLUE_EV: 0.10}
