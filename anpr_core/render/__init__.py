"""Synthetic Korean plates: every plate type drawn from its text, and camera-like augmentation."""

from anpr_core.render.augment import augment_crop
from anpr_core.render.dataset import RenderedPlateStream, stream_crops, synthetic_crop, write_dataset
from anpr_core.render.fonts import FontUnavailable
from anpr_core.render.plate import RenderedPlate, render_plate, render_plate_rgba
from anpr_core.render.styles import STYLE_SPECS, PlateStyle, styles_for

__all__ = [
    "STYLE_SPECS",
    "FontUnavailable",
    "PlateStyle",
    "RenderedPlate",
    "RenderedPlateStream",
    "augment_crop",
    "render_plate",
    "render_plate_rgba",
    "stream_crops",
    "styles_for",
    "synthetic_crop",
    "write_dataset",
]
