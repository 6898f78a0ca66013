"""Export formats for searches and routes: CSV, GeoJSON, KML. (PDF: `pdf_report`.)

All take the same rows: dicts with at least plate, camera_id, seen, lat, lon.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from xml.sax.saxutils import escape

COLUMNS = (
    "read_id", "plate", "camera_id", "camera_name", "seen", "lat", "lon", "confidence",
    "direction", "gap_s", "distance_m", "speed_kmh",
)  # fmt: skip


def _cell(value: Any) -> Any:
    # Spreadsheet formula injection: a cell starting with = + - @ would be executed by Excel.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(row.get(key)) for key in COLUMNS})
    # BOM so Excel on Korean Windows opens the UTF-8 plates correctly.
    return "\ufeff" + out.getvalue()


def to_geojson(rows: list[dict[str, Any]], line: bool) -> str:
    located = [row for row in rows if row.get("lat") is not None and row.get("lon") is not None]
    features: list[dict[str, Any]] = []
    if line and len(located) >= 2:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[r["lon"], r["lat"]] for r in located]},
                "properties": {"plate": located[0]["plate"], "count": len(located)},
            }
        )
    for row in located:
        properties = {key: row.get(key) for key in COLUMNS if key not in ("lat", "lon")}
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
             "properties": properties}
        )  # fmt: skip
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def to_kml(rows: list[dict[str, Any]], title: str, line: bool) -> str:
    located = [row for row in rows if row.get("lat") is not None and row.get("lon") is not None]
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>',
        f"<name>{escape(title)}</name>",
    ]
    for row in located:
        description = escape(f"{row.get('camera_id')} {row.get('camera_name') or ''}".strip())
        parts.append(
            f"<Placemark><name>{escape(str(row.get('plate')))}</name>"
            f"<description>{description}</description>"
            f"<TimeStamp><when>{escape(str(row.get('seen')))}</when></TimeStamp>"
            f"<Point><coordinates>{row['lon']},{row['lat']}</coordinates></Point></Placemark>"
        )
    if line and len(located) >= 2:
        coordinates = " ".join(f"{r['lon']},{r['lat']}" for r in located)
        parts.append(
            f"<Placemark><name>{escape(title)}</name>"
            f"<LineString><coordinates>{coordinates}</coordinates></LineString></Placemark>"
        )
    parts.append("</Document></kml>")
    return "\n".join(parts)
