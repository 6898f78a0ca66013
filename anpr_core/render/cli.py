"""`scripts/render_plates --out DIR --count N --seed S [--contact-sheet FILE]`: the renderer's CLI.

Kept apart from the library modules (`dataset`, `contact_sheet`) so that neither imports the other
for a command-line option.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from anpr_core.render.contact_sheet import synthetic_sheet
from anpr_core.render.dataset import write_dataset
from anpr_core.render.styles import PlateStyle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="render labelled synthetic Korean plate crops")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--styles", nargs="+", choices=[s.value for s in PlateStyle], help="only these styles"
    )
    parser.add_argument("--workers", type=int, default=1, help="processes (output is the same for any K)")
    parser.add_argument("--clean", action="store_true", help="no augmentation (flat plates)")
    parser.add_argument("--contact-sheet", type=Path, help="also write a labelled sheet of every style here")
    args = parser.parse_args(argv)
    styles = [PlateStyle(s) for s in args.styles] if args.styles else None
    started = time.perf_counter()
    counts = write_dataset(args.out, args.count, args.seed, not args.clean, styles, args.workers)
    elapsed = time.perf_counter() - started
    rate = args.count / elapsed
    print(f"{args.count} images in {elapsed:.1f} s: {rate:.0f} images/s with {args.workers} process(es)")
    for style, n in counts.most_common():
        print(f"  {style:22s} {n:6d} ({100 * n / max(args.count, 1):.1f}%)")
    if args.contact_sheet:
        synthetic_sheet(args.seed).save(args.contact_sheet, quality=85)
        print(f"contact sheet: {args.contact_sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
