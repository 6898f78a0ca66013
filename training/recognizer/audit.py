"""Label audit: real crops where the recogniser confidently reads something other than the label.

    scripts/audit_labels [--min-confidence 0.5] [--out docs]

Writes `label_audit.csv` (file, label, read, confidence, split, trained_on) and
`label_audit.png` (each suspect crop with its label and the read) for a person to check by eye.
Most suspects are misreads, not label errors: the sheet is a review list, not a verdict.

Also `label_pairs.csv` / `label_pairs.png`: labels that share the class digits and the serial
but not the Hangul (`88호5669` and `88오5669`). The collections photograph many cars more than
once, and two random plates share those six digits rarely (≈ 2–3 such pairs expected among
2,259 texts by chance), so most pairs are one car with one wrong label; they also put one car
on both sides of the split by text. The model's read of each crop is listed with them.

Which confidence: on the held-out crops (validation texts, scene plates) the confidence model
scores each crop with the weights fitted on the other folds (`fit_confidence.cross_fitted`),
so a suspect is never scored by a model that was fitted on it. The training-split crops are
read by a recogniser that **trained on their labels**: it tends to reproduce a wrong label
rather than contradict it, so an audit of those finds only the labels it could not learn;
they are listed with `trained_on = yes`.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from anpr_core.render.contact_sheet import grid
from anpr_core.render.fonts import plate_font
from lpr.recognizer.calibration import CALIBRATION_FILE, Calibration
from training.recognizer.fit_confidence import build_table, cross_fitted
from training.recognizer.heldout import MODEL_DIR, Sample, load_samples, predict

DOCS = Path(__file__).resolve().parents[2] / "docs"
TILE_W, TILE_H = 200, 80
_PLATE = re.compile(r"^(.*?)(\D)(\d{4})$")  # (region + class digits, use character, serial)


def _tile(image_bgr: np.ndarray, lines: list[str]) -> Image.Image:
    """The crop fitted into a tile, a few short lines of text under it (the sheet's `grid`
    lays tiles out by their own size)."""
    text_h = 17 * len(lines)
    tile = Image.new("RGB", (TILE_W, TILE_H + text_h), (255, 255, 255))
    h, w = image_bgr.shape[:2]
    scale = min(TILE_W / w, TILE_H / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    rgb = cv2.cvtColor(cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    tile.paste(Image.fromarray(rgb), ((TILE_W - size[0]) // 2, (TILE_H - size[1]) // 2))
    draw = ImageDraw.Draw(tile)
    for i, line in enumerate(lines):
        draw.text((3, TILE_H + 1 + 17 * i), line, font=plate_font(13, "Bold"), fill=(0, 0, 0))
    return tile


def _sheet(tiles: list[Image.Image], columns: int, title: str) -> Image.Image:
    """`grid` for tiles taller than the contact sheet's: rows as tall as these tiles."""
    if not tiles:
        return grid([], columns, title)
    tw, th = tiles[0].size
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (tw + 4) + 4, rows * (th + 4) + 30), (230, 230, 230))
    ImageDraw.Draw(sheet).text((6, 5), title, font=plate_font(18, "Bold"), fill=(0, 0, 0))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (4 + (i % columns) * (tw + 4), 30 + (i // columns) * (th + 4)))
    return sheet


def label_pairs(samples: list[Sample]) -> list[list[Sample]]:
    """Groups of crops whose labels share everything but the Hangul use character."""
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        match = _PLATE.match(sample.text)
        if match and sample.split != "scene":
            groups[(match.group(1), match.group(3))].append(sample)
    return [g for g in groups.values() if len({s.text for s in g}) > 1]


def suspects(min_confidence: float, model_dir: Path = MODEL_DIR) -> list[dict[str, object]]:
    samples = load_samples()
    held_out = [s for s in samples if s.held_out]
    table = build_table(held_out, variants=3, precisions=("fp32",), model_dir=model_dir)
    confidence = cross_fitted(table, variants=3)
    rows: list[dict[str, object]] = []
    for sample, variant, prediction, c in zip(
        table.samples, table.variant, table.predictions, confidence, strict=True
    ):
        if variant == 0 and prediction.read != sample.text:
            rows.append(_row(sample, prediction.read, float(c)))
    trained = [s for s in samples if not s.held_out]
    model = Calibration.load(model_dir / CALIBRATION_FILE).model
    for sample, prediction in zip(
        trained, predict([s.image for s in trained], "fp32", model_dir), strict=True
    ):
        if prediction.read != sample.text:
            c = float(model(prediction.features)) if model and prediction.features is not None else 0.0
            rows.append(_row(sample, prediction.read, c))
    by_key = {s.key: s for s in samples}
    kept = [r for r in rows if float(r["confidence"]) >= min_confidence]  # type: ignore[arg-type]
    kept.sort(key=lambda r: -float(r["confidence"]))  # type: ignore[arg-type]
    for r in kept:
        r["image"] = by_key[str(r["file"])].image
    return kept


def _row(sample: Sample, read: str | None, confidence: float) -> dict[str, object]:
    return {
        "file": sample.key,
        "label": sample.text,
        "read": read or "",
        "confidence": round(confidence, 4),
        "split": sample.split,
        "trained_on": "no" if sample.held_out else "yes",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--min-confidence", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=DOCS, help="folder for label_audit.csv and .png")
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    args = parser.parse_args(argv)
    rows = suspects(args.min_confidence, args.model_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    fields = ["file", "label", "read", "confidence", "split", "trained_on"]
    with open(args.out / "label_audit.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    tiles = []
    for r in rows:
        trained = "trained on" if r["trained_on"] == "yes" else "held out"
        lines = [f"{r['file']}  {trained}", f"label {r['label']}", f"read {r['read']}  {r['confidence']:.2f}"]
        tiles.append(_tile(r["image"], lines))  # type: ignore[arg-type]
    if tiles:
        title = f"label audit: read ≠ label at confidence ≥ {args.min_confidence}"
        _sheet(tiles, min(6, len(tiles)), title).save(args.out / "label_audit.png")
    for r in rows:
        print(
            f"{r['file']:14s} label {r['label']:12s} read {r['read']:12s} {r['confidence']:.4f} {r['split']}"
        )
    print(f"{len(rows)} suspects → {args.out / 'label_audit.csv'}" + (", label_audit.png" if tiles else ""))

    pairs = label_pairs(load_samples())
    flat = [s for group in pairs for s in group]
    predictions = predict([s.image for s in flat], "fp32", args.model_dir) if flat else []
    reads = {s.key: p.read or "" for s, p in zip(flat, predictions, strict=True)}
    with open(args.out / "label_pairs.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["group", "file", "label", "read", "split"])
        for g, group in enumerate(pairs):
            writer.writerows([g, s.key, s.text, reads[s.key], s.split] for s in group)
    pair_tiles = [
        _tile(s.image, [f"{g}: {s.key} ({s.split})", f"label {s.text}", f"read {reads[s.key] or '—'}"])
        for g, group in enumerate(pairs)
        for s in group
    ]
    if pair_tiles:
        title = (
            "labels differing only in the Hangul (same class digits and serial): one car, one wrong label?"
        )
        _sheet(pair_tiles, 6, title).save(args.out / "label_pairs.png")
    print(f"{len(pairs)} groups of labels that differ only in the Hangul → {args.out / 'label_pairs.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
