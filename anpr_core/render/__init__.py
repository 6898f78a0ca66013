"""Synthetic Korean plates: every plate type drawn from its text, and camera-like augmentation."""

from anpr_core.render.augment import augment_crop
from anpr_core.render.dataset import stream_crops, synthetic_crop
from anpr_core.render.fonts import FontUnavailable
from anpr_core.render.plate import RenderedPlate, render_plate
from anpr_core.render.styles import STYLE_SPECS, PlateStyle, styles_for

__all__ = [
    "STYLE_SPECS",
    "FontUnavailable",
    "PlateStyle",
    "RenderedPlate",
    "augment_crop",
    "render_plate",
    "stream_crops",
    "styles_for",
    "synthetic_crop",
]
