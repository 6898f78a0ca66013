"""Fit the recogniser's confidence model on held-out real crops and report it cross-fitted.

    PYTHONPATH=. .venv/bin/python -m training.recognizer.fit_confidence [--write]

Data: every real crop the shipped model did not train on (the validation texts of
`anpr_core/splits.py` and the scene plates), as they are and `--variants` times degraded the
way a farther or worse camera gives them (40–120 px wide, blur, JPEG; `heldout.degrade`):
the originals come from the same photo family as the training crops, and the degraded copies
carry the small-crop misreads that other cameras produce at a high beam share. Readings of the
fp32 and the int8 model are pooled (the workers run int8, `lpr read` fp32).

Figures are **cross-fitted**: the crops are cut into 5 folds by plate text, and each fold is
scored with a model fitted on the other four, so no figure rests on the crops its model was
fitted on. `--write` stores the model fitted on all of them (and the isotonic share map, for
reference) in `models/recognizer/calibration.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lpr.recognizer.calibration import CALIBRATION_FILE, Calibration
from lpr.recognizer.confidence import ConfidenceModel
from training.recognizer.heldout import MODEL_DIR, Prediction, Sample, degrade, load_samples, predict

FOLDS = 5
THRESHOLDS = (0.95, 0.99)


def fold_of(text: str, folds: int = FOLDS) -> int:
    digest = hashlib.blake2b(f"{text}#confidence-fold".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % folds


@dataclass
class Table:
    """One row per (crop variant, precision): its reading, features and the truth."""

    samples: list[Sample]
    variant: list[int]  # 0 = the crop as it is, 1.. = degraded copies
    precision: list[str]
    predictions: list[Prediction]

    @property
    def correct(self) -> np.ndarray:
        return np.array([p.read == s.text for p, s in zip(self.predictions, self.samples, strict=True)])

    @property
    def folds(self) -> np.ndarray:
        return np.array([fold_of(s.text) for s in self.samples])

    def features(self) -> np.ndarray:
        width = next(p.features for p in self.predictions if p.features is not None).shape[0]
        return np.array([p.features if p.features is not None else np.zeros(width) for p in self.predictions])

    @property
    def has_read(self) -> np.ndarray:
        return np.array([p.features is not None for p in self.predictions])


def build_table(
    samples: list[Sample], variants: int, precisions: tuple[str, ...], model_dir: Path = MODEL_DIR
) -> Table:
    rows: list[tuple[Sample, int, object]] = []
    for sample in samples:
        rows.append((sample, 0, sample.image))
        rng = random.Random(f"degrade:{sample.key}")
        rows += [(sample, v, degrade(sample.image, rng)) for v in range(1, variants + 1)]
    table = Table([], [], [], [])
    for precision in precisions:
        predictions = predict([image for _, _, image in rows], precision, model_dir)  # type: ignore[misc]
        table.samples += [s for s, _, _ in rows]
        table.variant += [v for _, v, _ in rows]
        table.precision += [precision] * len(rows)
        table.predictions += predictions
    return table


def sample_weights(table: Table, variants: int) -> np.ndarray:
    """Each crop counts once as it is and once over all its degraded copies together."""
    return np.array([1.0 if v == 0 else 1.0 / max(variants, 1) for v in table.variant])


def fit_model(table: Table, rows: np.ndarray, variants: int, note: str = "") -> ConfidenceModel:
    rows = rows & table.has_read
    return ConfidenceModel.fit(
        table.features()[rows],
        table.correct[rows],
        sample_weight=sample_weights(table, variants)[rows],
        note=note,
    )


def cross_fitted(table: Table, variants: int) -> np.ndarray:
    """Each row's confidence from the model fitted on the other folds (0 where nothing was read)."""
    confidence = np.zeros(len(table.predictions))
    folds, features = table.folds, table.features()
    for k in range(FOLDS):
        model = fit_model(table, folds != k, variants)
        rows = (folds == k) & table.has_read
        confidence[rows] = model.probability(features[rows])
    return confidence


def cross_fitted_isotonic(table: Table) -> np.ndarray:
    """The older calibration (isotonic on the share alone), cross-fitted the same way."""
    confidence = np.zeros(len(table.predictions))
    folds = table.folds
    shares = np.array([p.share for p in table.predictions])
    for k in range(FOLDS):
        fit_on = folds != k
        mapping = Calibration.fit(shares[fit_on].tolist(), table.correct[fit_on].tolist())
        confidence[folds == k] = [mapping(s) for s in shares[folds == k]]
    return confidence


def threshold_line(confidence: np.ndarray, correct: np.ndarray) -> str:
    parts = []
    for threshold in THRESHOLDS:
        kept = confidence >= threshold
        n = int(kept.sum())
        precision = f"{correct[kept].mean():.4f}" if n else "—"
        wrong = int((~correct[kept]).sum())
        parts.append(f"≥{threshold}: precision {precision} ({wrong} wrong of {n}), share {kept.mean():.1%}")
    brier = float(((confidence - correct) ** 2).mean())
    return "; ".join(parts) + f"; Brier {brier:.4f}"


def report(table: Table, confidence: dict[str, np.ndarray]) -> None:
    correct = table.correct
    splits = np.array([s.split for s in table.samples])
    variant = np.array(table.variant)
    precision = np.array(table.precision)
    groups = [
        ("validation crops as they are", (splits == "val") & (variant == 0)),
        ("scene plates (other collection)", (splits == "scene") & (variant == 0)),
        ("all held-out crops as they are", variant == 0),
        ("degraded copies (40–120 px, blur, JPEG)", variant > 0),
    ]
    for prec in sorted(set(table.precision)):
        for name, rows in groups:
            rows = rows & (precision == prec)
            if not rows.any():
                continue
            print(f"\n{prec}, {name}: {int(rows.sum())} reads, exact {correct[rows].mean():.4f}")
            for label, values in confidence.items():
                print(f"  {label:34s} {threshold_line(values[rows], correct[rows])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", type=int, default=3, help="degraded copies of each held-out crop")
    parser.add_argument("--write", action="store_true", help=f"write models/recognizer/{CALIBRATION_FILE}")
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR, help="the weights to read with")
    parser.add_argument(
        "--baseline", type=Path, help="an older calibration.json to compare with (e.g. v2's, from git)"
    )
    args = parser.parse_args(argv)

    started = time.time()
    held_out = [s for s in load_samples() if s.held_out]
    table = build_table(held_out, args.variants, ("fp32", "int8"), args.model_dir)
    print(
        f"{len(held_out)} held-out real crops ({sum(s.split == 'val' for s in held_out)} validation, "
        f"{sum(s.split == 'scene' for s in held_out)} scene plates) × (1 + {args.variants} degraded) "
        f"× fp32/int8 = {len(table.predictions)} readings, {int((~table.correct).sum())} wrong"
    )
    shares = [p.share for p in table.predictions]
    confidence: dict[str, np.ndarray] = {}
    if args.baseline is not None:  # an older calibration file, applied as it is (not refitted)
        baseline = Calibration.load(args.baseline).with_model(None)
        confidence[f"share map of {args.baseline.name}"] = np.array([baseline(s) for s in shares])
    confidence["share map refitted, cross-fitted"] = cross_fitted_isotonic(table)
    confidence["feature model, cross-fitted"] = cross_fitted(table, args.variants)
    report(table, confidence)

    everything = np.ones(len(table.predictions), dtype=bool)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    note = (
        f"logistic on {len(held_out)} held-out real crops (validation texts + scene plates) and "
        f"{args.variants} degraded copies each, fp32 + int8 readings; {time.strftime('%Y-%m-%d')}, "
        f"commit {commit}"
    )
    model = fit_model(table, everything, args.variants, note)
    print("\nmodel fitted on all of them (standardised weights):")
    for name, weight in zip(model.features, model.weights, strict=True):
        print(f"  {name:20s} {weight:+.3f}")
    print(f"  bias {model.bias:+.3f}")
    if args.write:
        originals = np.array(table.variant) == 0
        fp32 = np.array(table.precision) == "fp32"
        rows = originals & fp32
        isotonic = Calibration.fit(
            np.array(shares)[rows].tolist(),
            table.correct[rows].tolist(),
            note=f"isotonic on the share of {int(rows.sum())} held-out real crops (fallback, alternatives)",
        )
        isotonic.with_model(model).save(args.model_dir / CALIBRATION_FILE)
        print(f"wrote {args.model_dir / CALIBRATION_FILE}")
    print(f"\n{time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
