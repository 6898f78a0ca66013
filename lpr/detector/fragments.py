"""Join the pieces of one long plate that the detector boxed separately.

A long one-line plate (520×110 mm, white or blue EV) has a gap between the Hangul and the last
four digits; a detector can box `59라 2` and `730` as two plates. Two boxes of the same height on
the same line, close together, whose union still has a plate's proportions, are one plate. Two
real plates are never that close: side by side, cars put their plates several plate-widths apart.
"""

from __future__ import annotations

from lpr.detector.types import Detection

MIN_HEIGHT_RATIO = 0.75  # the pieces of one plate are as tall as each other
MIN_ROW_OVERLAP = 0.75  # ... and on one line (vertical overlap / the smaller height)
MAX_GAP_HEIGHTS = 0.6  # horizontal gap at most this many heights
MAX_PLATE_ASPECT = 6.0  # a 520×110 plate is 4.7:1; perspective and box slack add a little


def _joinable(a: Detection, b: Detection) -> bool:
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a.box, b.box
    ha, hb = ay1 - ay0, by1 - by0
    if min(ha, hb) <= 0 or min(ha, hb) / max(ha, hb) < MIN_HEIGHT_RATIO:
        return False
    if (min(ay1, by1) - max(ay0, by0)) / min(ha, hb) < MIN_ROW_OVERLAP:
        return False
    left, right = (a.box, b.box) if ax0 <= bx0 else (b.box, a.box)
    gap = right[0] - left[2]
    height = (ha + hb) / 2
    if gap > MAX_GAP_HEIGHTS * height or right[2] <= left[2]:  # too far apart, or one inside the other
        return False
    return (max(ax1, bx1) - min(ax0, bx0)) / height <= MAX_PLATE_ASPECT


def join_fragments(detections: list[Detection]) -> list[Detection]:
    """The detections with every joinable pair merged (repeatedly), best score kept."""
    merged = list(detections)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                if _joinable(merged[i], merged[j]):
                    a, b = merged[i].box, merged[j].box
                    union = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    joined = Detection(union, max(merged[i].score, merged[j].score))
                    merged = [d for k, d in enumerate(merged) if k not in (i, j)] + [joined]
                    changed = True
                    break
            if changed:
                break
    return sorted(merged, key=lambda d: -d.score)
