"""PDF case report: case number, requester, purpose, summary, map, table and crop thumbnails."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

MAX_TABLE_ROWS = 500
MAX_THUMBNAILS = 12


@cache
def _korean_font() -> str:
    from anpr_core.render.fonts import font_path  # the project's Korean font package

    pdfmetrics.registerFont(TTFont("NanumGothic", str(font_path("Regular"))))
    return "NanumGothic"


def build_pdf(
    *,
    title: str,
    case_number: str,
    requester: str,
    role: str,
    purpose: str,
    summary: dict[str, Any],
    rows: list[dict[str, Any]],
    map_png: bytes,
    crops_dir: Path,
) -> bytes:
    font = _korean_font()
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    heading = ParagraphStyle("heading", fontName=font, fontSize=16, leading=20, spaceAfter=6)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), title=title, author=requester)
    story: list[Any] = [Paragraph(title, heading)]
    meta = [
        ("사건번호 Case", case_number),
        ("요청자 Requester", f"{requester} ({role})"),
        ("목적 Purpose", purpose),
        ("생성 Generated", datetime.now(UTC).isoformat(timespec="seconds")),
    ] + [(str(k), str(v)) for k, v in summary.items()]
    story.append(
        Table([[Paragraph(k, body), Paragraph(v, body)] for k, v in meta], colWidths=[50 * mm, 200 * mm])
    )
    story.append(Spacer(1, 4 * mm))
    story.append(Image(io.BytesIO(map_png), width=180 * mm, height=120 * mm))
    header = ["#", "plate", "camera", "time (UTC)", "lat", "lon", "gap s", "km/h"]
    table = [header]
    for index, row in enumerate(rows[:MAX_TABLE_ROWS], start=1):
        table.append(
            [str(index), row.get("plate") or "", row.get("camera_id") or "", str(row.get("seen") or "")[:19],
             _num(row.get("lat")), _num(row.get("lon")), _num(row.get("gap_s")), _num(row.get("speed_kmh"))]
        )  # fmt: skip
    grid = Table(table, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ]
        )
    )
    story += [Spacer(1, 4 * mm), grid]
    if len(rows) > MAX_TABLE_ROWS:
        story.append(Paragraph(f"… {len(rows) - MAX_TABLE_ROWS} more rows in the CSV export", body))
    thumbs = _thumbnails(rows, crops_dir)
    if thumbs:
        story += [
            Spacer(1, 4 * mm),
            Paragraph("번호판 이미지 Plate crops", body),
            Table([thumbs[i : i + 6] for i in range(0, len(thumbs), 6)]),
        ]
    doc.build(story)
    return out.getvalue()


def _num(value: Any) -> str:
    return "" if value is None else f"{value:.5g}" if isinstance(value, float) else str(value)


def _thumbnails(rows: list[dict[str, Any]], crops_dir: Path) -> list[Image]:
    root = crops_dir.resolve()
    out: list[Image] = []
    for row in rows:
        ref = row.get("crop_ref")
        if not ref:
            continue
        path = (root / str(ref)).resolve()
        if path.is_relative_to(root) and path.is_file():
            out.append(Image(str(path), width=40 * mm, height=13 * mm))
        if len(out) >= MAX_THUMBNAILS:
            break
    return out
