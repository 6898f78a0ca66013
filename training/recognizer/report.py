"""Held-out real accuracy by format, colour and layout, and the Hangul confusion matrix.

    PYTHONPATH=. .venv/bin/python -m training.recognizer.report [--model-dir DIR] [--variants 3]

Only crops the model never trained on count: the validation texts of the blake2b split
(`anpr_core/splits.py`) and the scene plates. Each figure carries its 95 % Wilson interval,
because most groups are small. Colour and layout are not in the labels: crops whose picture
has no colour (saturation ≈ 0: infrared or monochrome cameras) are "grey"; the few crops that
are not white one-line plates were classified by eye (`BY_EYE`, from the sheet of every
non-white, non-old7 and scene crop); every other crop is a white one-line plate of the
Jun0414/ryunchang collection (its crops were resized by the source, so their aspect ratio does
not tell the layout).
"""

from __future__ import annotations

import argparse
import math
import random
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np

from anpr_core.plates import try_parse_plate
from training.recognizer.heldout import MODEL_DIR, Sample, degrade, load_samples, predict

# (colour, layout) of the crops that are not white one-line plates, checked by eye.
# layout: "one-line", "one-line stacked region" (서 over 울 at the left), "two-line".
BY_EYE: dict[str, tuple[str, str]] = {
    "p000056.jpg": ("yellow", "two-line"),
    "p000177.jpg": ("yellow", "two-line"),
    "p000958.jpg": ("blue", "one-line"),
    "p001365.jpg": ("green", "two-line"),
    "p001636.jpg": ("green", "two-line"),
    "p001843.jpg": ("yellow", "one-line stacked region"),
    "s0003.jpg#0": ("yellow", "two-line"),
    "s0004.jpg#0": ("yellow", "one-line stacked region"),
    "s0006.jpg#0": ("grey", "one-line stacked region"),
    "s0007.jpg#0": ("grey", "two-line"),
    "s0009.jpg#0": ("grey", "two-line"),
    "s0011.jpg#0": ("grey", "two-line"),
    "s0012.jpg#0": ("grey", "one-line stacked region"),
    "s0014.jpg#0": ("grey", "one-line stacked region"),
    "s0015.jpg#0": ("grey", "one-line stacked region"),
    "s0017.jpg#0": ("grey", "two-line"),
    "s0018.jpg#0": ("grey", "one-line stacked region"),
}
# The Hangul pairs other cameras confuse (issue 19), for the confusion matrix.
HARD_HANGUL = "우두루무부오호어머거저러라나다너더허하"


def colour_and_layout(sample: Sample) -> tuple[str, str]:
    if sample.key in BY_EYE:
        return BY_EYE[sample.key]
    saturation = cv2.cvtColor(sample.image, cv2.COLOR_BGR2HSV)[..., 1].mean()
    return ("grey" if saturation < 5 else "white"), "one-line"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def group_table(samples: list[Sample], reads: list[str | None]) -> list[tuple[str, int, int]]:
    """(group, right, total) for overall, each split, format, colour, layout."""
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sample, read in zip(samples, reads, strict=True):
        colour, layout = colour_and_layout(sample)
        ok = int(read == sample.text)
        for name in (
            "all held-out",
            f"split: {sample.split}",
            f"format: {sample.format}",
            f"colour: {colour}",
            f"layout: {layout}",
        ):
            groups[name][0] += ok
            groups[name][1] += 1
    return [(name, k, n) for name, (k, n) in groups.items()]


def hangul_confusions(samples: list[Sample], reads: list[str | None]) -> Counter[tuple[str, str]]:
    """(true use character, read use character) over reads that parse, the plate's other
    fields aside; a read with no valid plate counts as (true, "∅")."""
    pairs: Counter[tuple[str, str]] = Counter()
    for sample, read in zip(samples, reads, strict=True):
        truth = try_parse_plate(sample.text)
        got = try_parse_plate(read or "")
        if truth is not None:
            pairs[(truth.use_char, got.use_char if got else "∅")] += 1
    return pairs


def print_groups(title: str, samples: list[Sample], reads: list[str | None]) -> None:
    print(f"\n{title}")
    print("| group | exact | right / crops | 95 % interval |")
    print("|---|---|---|---|")
    for name, k, n in sorted(group_table(samples, reads), key=lambda row: (row[0] != "all held-out", row[0])):
        low, high = wilson(k, n)
        print(f"| {name} | {k / n:.3f} | {k} / {n} | {low:.3f}–{high:.3f} |")


def print_confusions(title: str, pairs: Counter[tuple[str, str]]) -> None:
    print(f"\n{title}")
    chars = [c for c in HARD_HANGUL if any(t == c for t, _ in pairs)]
    print("| true \\ read | " + " | ".join(chars) + " | other | n |")
    print("|---|" + "---|" * (len(chars) + 2))
    for t in chars:
        row = [pairs.get((t, r), 0) for r in chars]
        total = sum(v for (tt, _), v in pairs.items() if tt == t)
        other = total - sum(row)
        cells = [f"**{v}**" if r == t else (str(v) if v else "·") for r, v in zip(chars, row, strict=True)]
        print(f"| {t} | " + " | ".join(cells) + f" | {other or '·'} | {total} |")
    off = [(t, r, v) for (t, r), v in pairs.most_common() if t != r]
    print(
        "most common confusions (true → read: count): " + ", ".join(f"{t}→{r}: {v}" for t, r, v in off[:15])
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--variants", type=int, default=3, help="degraded copies for the stress figures")
    args = parser.parse_args(argv)
    held_out = [s for s in load_samples() if s.held_out]
    for precision in ("fp32", "int8"):
        reads = [p.read for p in predict([s.image for s in held_out], precision, args.model_dir)]
        print_groups(f"{precision}: held-out real crops ({len(held_out)})", held_out, reads)
        if precision == "fp32":
            print_confusions(
                "Hangul use character, held-out real crops, fp32", hangul_confusions(held_out, reads)
            )
    copies, images = [], []
    for sample in held_out:
        rng = random.Random(f"degrade:{sample.key}")
        for _ in range(args.variants):
            copies.append(sample)
            images.append(degrade(sample.image, rng))
    reads = [p.read for p in predict(images, "fp32", args.model_dir)]
    ok = np.array([r == s.text for r, s in zip(reads, copies, strict=True)])
    print(f"\nfp32, the same crops degraded ({args.variants} copies each, 40–120 px wide, blur, JPEG): "
          f"exact {ok.mean():.3f} ({ok.sum()} / {len(ok)})")  # fmt: skip
    print_confusions("Hangul use character, degraded copies, fp32", hangul_confusions(copies, reads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
