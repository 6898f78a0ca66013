"""Korean fonts for rendering plates, from an installed package (never downloaded)."""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path

from PIL import ImageFont

FONT_PACKAGE = "koreanize-matplotlib"
_DEBIAN_FALLBACKS = (
    Path("/usr/share/fonts/truetype/nanum"),
    Path("/usr/share/fonts/opentype/noto"),
)


class FontUnavailable(RuntimeError):
    pass


@cache
def font_dir() -> Path:
    # An explicit directory (e.g. a copy of the package's fonts on a training machine).
    override = os.environ.get("ANPR_FONT_DIR")
    if override and any(Path(override).glob("*.ttf")):
        return Path(override)
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is not None and spec.submodule_search_locations:
        fonts = Path(next(iter(spec.submodule_search_locations))) / "fonts"
        if (fonts / "NanumGothicBold.ttf").is_file():
            return fonts
    for candidate in _DEBIAN_FALLBACKS:
        if any(candidate.glob("*Bold*")):
            return candidate
    raise FontUnavailable(
        f"no Korean font found: install the PyPI package {FONT_PACKAGE} (scripts/setup does) "
        "or the Debian package fonts-nanum"
    )


@cache
def font_path(weight: str = "Bold") -> Path:
    directory = font_dir()
    for pattern in (f"NanumGothic{weight}.ttf", f"*{weight}*.tt[fc]", f"*{weight}*.otf", "*.tt[fc]"):
        found = sorted(directory.glob(pattern))
        if found:
            return found[0]
    raise FontUnavailable(f"no {weight} Korean font in {directory}")


@cache
def plate_font(size: int, weight: str = "Bold") -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(weight)), size)
