"""Fit a crowd-density head (monitor/people/density.py) on the tuning half of one scene's real
crowd photos (the split of anpr/bench/people.py: street views by image, even positions; the mall
sequence by time block, its first half). Never sees the held-out half.

Every 16-px cell's 210 detector features → the annotated heads in the cell (blurred by one cell):
a 210 → 64 → 1 ReLU MLP trained with Adam on the cells' squared error (numpy, no torch), then a
linear count calibration on the same images. Runs on the runtime venv, minutes of CPU.

    .venv/bin/python -m training.people.density --scene street   # → density_head.npz
    .venv/bin/python -m training.people.density --scene mall     # → density_head_mall.npz
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import cv2
import numpy as np

from monitor.people.density import CELL, HEAD_FILE, MALL_HEAD_FILE, frame_features, mlp_cells
from monitor.people.detector import PersonDetector

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT.parent / "shared" / "data" / "people"
MODEL = ROOT / "models" / "people"
SCENES = {
    # set name, network input (long side), head file
    "street": ("shanghaitech_b_train", 2048, HEAD_FILE),
    "mall": ("mall", 960, MALL_HEAD_FILE),
}
HIDDEN, EPOCHS, BATCH, LR, DECAY = 64, 20, 1024, 1e-3, 1e-4
TARGET_SCALE = 10.0  # heads per cell are ~0.01–1: scaled for the optimiser, unscaled on export
log = logging.getLogger("training.people.density")


def tuning_images(labels: list[dict], scene: str) -> list[dict]:
    rows = sorted((row for row in labels if row["set"] == scene), key=lambda r: r["file"])
    if scene == "mall":  # one sequence: the first half by time (the second is held out)
        return rows[: len(rows) // 2]
    return rows[0::2]  # the odd positions are held out (anpr/bench/people.py)


def cell_targets(row: dict, shape: tuple[int, int], scale: float) -> np.ndarray:
    heads = np.zeros(shape, np.float32)
    for x, y in row["points"]:
        heads[min(shape[0] - 1, int(y * scale / CELL)), min(shape[1] - 1, int(x * scale / CELL))] += 1
    return cv2.GaussianBlur(heads, (0, 0), 1.0)


def cells_of(detector: PersonDetector, size: int, row: dict) -> tuple[np.ndarray, np.ndarray]:
    """One photo → (cells × 210 features, cells' head targets), the grey padding left out."""
    image = cv2.imread(str(PEOPLE / "images" / row["file"]))
    features, scale = frame_features(detector, image, size)
    rows = int(np.ceil(image.shape[0] * scale / CELL))
    cols = int(np.ceil(image.shape[1] * scale / CELL))
    targets = cell_targets(row, features.shape[1:], scale)[:rows, :cols]
    x = features[:, :rows, :cols].reshape(len(features), -1).T
    return x.astype(np.float32), targets.ravel()


def train_mlp(x: np.ndarray, y: np.ndarray, epochs: int = EPOCHS, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    mean, std = x.mean(0), x.std(0) + 1e-3
    x = (x - mean) / std
    y = (y * TARGET_SCALE)[:, None].astype(np.float32)
    p = {
        "w1": rng.normal(0, np.sqrt(2 / x.shape[1]), (x.shape[1], HIDDEN)).astype(np.float32),
        "b1": np.zeros(HIDDEN, np.float32),
        "w2": (rng.normal(0, np.sqrt(1 / HIDDEN), (HIDDEN, 1)) * 0.1).astype(np.float32),
        "b2": np.zeros(1, np.float32),
    }
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    step = 0
    for epoch in range(epochs):
        lr = LR * 0.5 * (1 + np.cos(np.pi * epoch / epochs))  # cosine: settles instead of wandering
        order = rng.permutation(len(x))
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            a, t = x[batch], y[batch]
            hidden = np.maximum(a @ p["w1"] + p["b1"], 0)
            g = 2 * (hidden @ p["w2"] + p["b2"] - t) / len(batch)
            gh = (g @ p["w2"].T) * (hidden > 0)
            grads = {
                "w2": hidden.T @ g + DECAY * p["w2"],
                "b2": g.sum(0),
                "w1": a.T @ gh + DECAY * p["w1"],
                "b1": gh.sum(0),
            }
            step += 1
            for k in p:
                m[k] = 0.9 * m[k] + 0.1 * grads[k]
                v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
                p[k] -= lr * (m[k] / (1 - 0.9**step)) / (np.sqrt(v[k] / (1 - 0.999**step)) + 1e-8)
        log.info("epoch %d/%d", epoch + 1, epochs)
    # back to heads per cell
    return {
        "mean": mean,
        "std": std,
        **{k: val / (TARGET_SCALE if k in ("w2", "b2") else 1) for k, val in p.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", choices=sorted(SCENES), default="street")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--out", type=Path, default=None, help="head file (default: the model directory's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scene, size, head_file = SCENES[args.scene]
    labels = json.loads((PEOPLE / "labels.json").read_text())
    rows = tuning_images(labels, scene)
    detector = PersonDetector(MODEL, threads=1)
    started = time.monotonic()
    cells = []
    for i, row in enumerate(rows):
        cells.append(cells_of(detector, size, row))
        if i % 10 == 0:
            log.info("features %d/%d (%.0f s)", i + 1, len(rows), time.monotonic() - started)
    head = train_mlp(
        np.concatenate([c[0] for c in cells]), np.concatenate([c[1] for c in cells]), args.epochs
    )
    params = {k: v.astype(np.float32) for k, v in head.items()}
    raw = np.array([mlp_cells(params, x.T.reshape(-1, len(x), 1)).sum() for x, _ in cells])
    truth = np.array([row["count"] for row in rows], float)
    scale, offset = np.linalg.lstsq(np.c_[raw, np.ones_like(raw)], truth, rcond=None)[0]
    out = args.out or MODEL / head_file
    np.savez(
        out,
        **{k: v.astype(np.float32) for k, v in head.items()},
        scale=np.float32(scale),
        offset=np.float32(offset),
        input_size=np.int32(size),
    )
    fitted = np.abs(scale * raw + offset - truth).mean()
    log.info(
        "%s: %d tuning images, fitted MAE %.2f, calibration a %.3f b %.2f",
        out,
        len(rows),
        fitted,
        scale,
        offset,
    )


if __name__ == "__main__":
    main()
