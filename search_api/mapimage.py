"""A small map image for reports: cameras and the route on a plain projected canvas.

No tiles are downloaded (no network at run time): points are projected equirectangularly,
scaled to fit, with a light grid for scale.
"""

from __future__ import annotations

import io
import math
from typing import Any

from PIL import Image, ImageDraw

from search_api.geo import haversine_m


def draw_map(
    rows: list[dict[str, Any]], cameras: dict[str, dict[str, Any]], size: tuple[int, int] = (900, 600)
) -> bytes:
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    points = [(r["lat"], r["lon"]) for r in rows if r.get("lat") is not None and r.get("lon") is not None]
    camera_points = [(c["lat"], c["lon"]) for c in cameras.values() if c.get("lat") is not None]
    everything = points + camera_points
    if not everything:
        draw.text((20, 20), "no located sightings", fill="black")
        return _png(image)
    lats = [p[0] for p in everything]
    lons = [p[1] for p in everything]
    mid_lat = math.radians((min(lats) + max(lats)) / 2)
    span_x = max((max(lons) - min(lons)) * math.cos(mid_lat), 1e-4)
    span_y = max(max(lats) - min(lats), 1e-4)
    margin = 40
    scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)

    def project(lat: float, lon: float) -> tuple[float, float]:
        x = margin + (lon - min(lons)) * math.cos(mid_lat) * scale
        y = height - margin - (lat - min(lats)) * scale
        return x, y

    for step in range(0, 11):
        x = margin + step * (width - 2 * margin) / 10
        y = margin + step * (height - 2 * margin) / 10
        draw.line([(x, margin), (x, height - margin)], fill=(235, 235, 235))
        draw.line([(margin, y), (width - margin, y)], fill=(235, 235, 235))
    for lat, lon in camera_points:
        x, y = project(lat, lon)
        draw.rectangle([x - 3, y - 3, x + 3, y + 3], outline=(120, 120, 120))
    if len(points) >= 2:
        draw.line([project(*p) for p in points], fill=(200, 30, 30), width=3)
    for index, (lat, lon) in enumerate(points):
        x, y = project(lat, lon)
        colour = (0, 140, 0) if index == 0 else (0, 0, 200) if index == len(points) - 1 else (200, 30, 30)
        draw.ellipse([x - 5, y - 5, x + 5, y + 5], fill=colour)
    width_m = haversine_m(min(lats), min(lons), min(lats), max(lons))
    draw.text((margin, height - margin + 10), f"width ≈ {width_m / 1000:.1f} km; green = first, blue = last",
              fill="black")  # fmt: skip
    return _png(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
