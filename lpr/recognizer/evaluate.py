"""Evaluate the recogniser through its public interface (`lpr read --crops`) on a labelled folder.

Prints exact-plate accuracy, character accuracy, accuracy per format and the confusion pairs;
`--fit-confusion` feeds the observed confusions back into the OCR-confusion model.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from collections import Counter, defaultdict
from difflib import SequenceMatcher
from pathlib import Path

from anpr_core.plates import ConfusionModel
from anpr_core.plates.confusion import DEFAULT_COSTS_FILE


def char_pairs(truth: str, read: str) -> tuple[int, list[tuple[str, str]]]:
    """Correct characters and (true, read) substitution pairs between two strings."""
    correct, pairs = 0, []
    for op, a0, a1, b0, b1 in SequenceMatcher(a=truth, b=read, autojunk=False).get_opcodes():
        if op == "equal":
            correct += a1 - a0
        elif op == "replace" and a1 - a0 == b1 - b0:
            pairs += list(zip(truth[a0:a1], read[b0:b1], strict=True))
    return correct, pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="folder with labels.csv (file,text,format) and the crops")
    parser.add_argument("--split", choices=["all", "val"], default="all", help="val: only the held-out texts")
    parser.add_argument("--fit-confusion", action="store_true", help=f"write {DEFAULT_COSTS_FILE.name}")
    args = parser.parse_args(argv)

    with open(args.folder / "labels.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if args.split == "val":
        from anpr_core.splits import is_validation_text

        rows = [r for r in rows if is_validation_text(r["text"])]
    files = [str(args.folder / r["file"]) for r in rows]
    run = subprocess.run(
        [sys.executable, "-m", "lpr.cli", "read", "--crops", "--threads", "2", *files],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    results = {rec["image"]: rec for rec in map(json.loads, run.stdout.splitlines())}
    exact, chars_right, chars_total = 0, 0, 0
    per_format: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusions: Counter[tuple[str, str]] = Counter()
    char_counts: Counter[str] = Counter()
    for row, path in zip(rows, files, strict=True):
        read = results.get(path, {}).get("text") or ""
        ok = read == row["text"]
        exact += ok
        per_format[row["format"]][0] += ok
        per_format[row["format"]][1] += 1
        correct, pairs = char_pairs(row["text"], read)
        chars_right += correct
        chars_total += len(row["text"])
        confusions.update(pairs)
        char_counts.update(row["text"])
    n = len(rows)
    print(f"crops: {n}")
    print(f"exact-plate accuracy: {exact / n:.4f} ({exact}/{n})")
    print(f"character accuracy:   {chars_right / chars_total:.4f}")
    for fmt, (ok, total) in sorted(per_format.items()):
        print(f"  {fmt:10s} {ok / total:.4f} ({ok}/{total})")
    print("confusion pairs (true → read: count):")
    for (t, r), count in confusions.most_common(20):
        print(f"  {t} → {r}: {count}")
    if args.fit_confusion:
        model = ConfusionModel.fit(confusions, char_counts, prior=ConfusionModel.load())
        model.save(DEFAULT_COSTS_FILE, note=f"fitted on {n} crops of {args.folder} ({args.split})")
        print(f"wrote {DEFAULT_COSTS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
