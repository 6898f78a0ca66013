"""Korean fonts for rendering plates, from an installed package (never downloaded).

The PyPI package koreanize-matplotlib ships NanumGothic (Light … ExtraBold) inside its wheel, so
a training machine that only receives PyPI wheels has the same font as a developer's machine.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from PIL import ImageFont

FONT_PACKAGE = "koreanize-matplotlib"
# Korean plates use a bold condensed gothic; these weights of NanumGothic are close once squeezed.
PLATE_FONT_WEIGHTS = ("Bold", "ExtraBold")
DEBIAN_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/nanum"),
    Path("/usr/share/fonts/opentype/noto"),
)


class FontUnavailable(RuntimeError):
    pass


def _package_font_dir() -> Path | None:
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "fonts"


def find_font_dir(override: str | None, package_dir: Path | None, fallbacks: Iterable[Path]) -> Path:
    """The first directory holding a bold Korean font: an override, the PyPI package, then Debian's."""
    if override and any(Path(override).glob("*Bold*.tt[fc]")):
        return Path(override)
    if package_dir is not None and (package_dir / "NanumGothicBold.ttf").is_file():
        return package_dir
    for candidate in fallbacks:
        if any(candidate.glob("*Bold*")):
            return candidate
    raise FontUnavailable(
        f"no Korean font found: pip install '{FONT_PACKAGE}>=0.1.1,<0.2' (it bundles NanumGothic), "
        "or apt-get install fonts-nanum, or point ANPR_PATHS__FONT_DIR (paths.font_dir) at a folder "
        "with NanumGothicBold.ttf"
    )


@cache
def font_dir() -> Path:
    from anpr_core.settings import load_settings

    override = load_settings().paths.font_dir
    return find_font_dir(override and str(override), _package_font_dir(), DEBIAN_FONT_DIRS)


@cache
def font_path(weight: str = "Bold") -> Path:
    directory = font_dir()
    for pattern in (f"NanumGothic{weight}.ttf", f"*{weight}*.tt[fc]", f"*{weight}*.otf", "*Bold*.tt[fc]"):
        found = sorted(directory.glob(pattern))
        if found:
            return found[0]
    raise FontUnavailable(f"no {weight} Korean font in {directory}")


@cache
def plate_font(size: int, weight: str = "Bold") -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(weight)), size)
