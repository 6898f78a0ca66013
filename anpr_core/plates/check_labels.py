"""Check every real label in ../shared/data against the grammar and print the breakdown."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

from anpr_core.plates import InvalidPlate, parse_plate
from anpr_core.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=None, help="default: paths.shared_data")
    parser.add_argument("--report-only", action="store_true", help="exit 0 even if labels fail")
    args = parser.parse_args(argv)
    args.data = args.data or load_settings().paths.shared_data

    texts: list[tuple[str, str, str | None]] = []  # (source, text, claimed format)
    with open(args.data / "plates" / "labels.csv", encoding="utf-8") as f:
        texts += [(f"plates/{r['file']}", r["text"], r["format"]) for r in csv.DictReader(f)]
    scenes = json.loads((args.data / "scenes" / "labels.json").read_text(encoding="utf-8"))
    texts += [(f"scenes/{s['file']}", p["text"], None) for s in scenes for p in s["plates"] if p["text"]]

    formats: Counter[str] = Counter()
    uses: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    failures: list[str] = []
    for source, text, claimed in texts:
        try:
            plate = parse_plate(text)
        except InvalidPlate as exc:
            failures.append(f"{source}: {text!r}: {exc.reason}")
            continue
        formats[plate.format.value] += 1
        uses[plate.use.value] += 1
        if plate.region:
            regions[plate.region] += 1
        if claimed is not None and claimed != plate.format.value:
            failures.append(f"{source}: {text!r}: labelled {claimed}, parses as {plate.format.value}")
    print(f"{len(texts)} labels, {len(failures)} failing")
    print("formats:", dict(formats.most_common()))
    print("uses:   ", dict(uses.most_common()))
    print("regions:", dict(regions.most_common()))
    for failure in failures:
        print("FAIL", failure)
    return 0 if args.report_only or not failures else 1


if __name__ == "__main__":
    sys.exit(main())
