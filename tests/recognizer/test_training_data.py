"""Synthetic training samples for the recogniser fine-tune: reproducible, and the mix asked for.

Needs torch (the training venv); skipped in the runtime venv.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

pytest.importorskip("torch")

from anpr_core.plates import PlateFormat, parse_plate
from anpr_core.render.styles import PlateStyle
from anpr_core.splits import real_crops
from tests.conftest import SHARED_DATA
from training.recognizer.data import (
    TWO_LINE_STYLES,
    MixedStream,
    RealCrops,
    collate,
    parse_format_weights,
    synthetic_eval_set,
    two_line_synthetic_crop,
    weighted_synthetic_crop,
)


def test_weighted_synthetic_crops_follow_the_format_mix() -> None:
    weights = parse_format_weights("regional=0.75, old7=0.25")
    assert weights == {PlateFormat.REGIONAL: 0.75, PlateFormat.OLD7: 0.25}
    assert parse_format_weights(None) is None
    formats = []
    for seed in range(40):
        image, text = weighted_synthetic_crop(seed, weights)
        again, same_text = weighted_synthetic_crop(seed, weights)
        assert text == same_text and np.array_equal(image, again)  # a pure function of the seed
        assert image.ndim == 3 and image.shape[1] > 20
        formats.append(parse_plate(text).format)
    assert set(formats) == {PlateFormat.REGIONAL, PlateFormat.OLD7}
    assert formats.count(PlateFormat.REGIONAL) > formats.count(PlateFormat.OLD7)


def test_two_line_crops_are_two_line_styles_with_valid_text() -> None:
    assert set(TWO_LINE_STYLES) == {
        PlateStyle.GREEN_TWO_LINE,
        PlateStyle.YELLOW_TWO_LINE,
        PlateStyle.ORANGE_CONSTRUCTION,
    }
    for seed in range(12):
        image, text = two_line_synthetic_crop(seed)
        assert parse_plate(text).text == text
        assert np.array_equal(image, two_line_synthetic_crop(seed)[0])


def test_synthetic_eval_set_is_per_format_and_reproducible() -> None:
    sets = synthetic_eval_set(5, per_format=3)
    assert set(sets) == {f.value for f in PlateFormat}
    for fmt, (crops, truths) in sets.items():
        assert len(crops) == len(truths) == 3
        assert all(parse_plate(t).format.value == fmt for t in truths)
    again = synthetic_eval_set(5, per_format=3)
    assert all(np.array_equal(a, b) for a, b in zip(sets["regional"][0], again["regional"][0], strict=True))


@pytest.mark.skipif(not (SHARED_DATA / "plates").is_dir(), reason="../shared/data is absent")
def test_mixed_stream_marks_real_samples_for_the_distillation_term() -> None:
    train, _ = real_crops(SHARED_DATA / "plates")
    real = RealCrops(train[:5], augment=True)
    stream = MixedStream(real, 0.5, seed=9, real_weights=[1, 1, 1, 1, 50], two_line_share=0.5)
    samples = list(itertools.islice(iter(stream), 24))
    images, targets, lengths, texts, is_real = collate(samples)
    assert images.shape == (24, 1, 48, 160) and int(lengths.sum()) == len(targets)
    assert 0 < int(is_real.sum()) < 24
    real_texts = {c.text for c in train[:5]}
    for text, flag in zip(texts, is_real.tolist(), strict=True):
        assert (text in real_texts) == flag  # synthetic texts are random plates
    # The heavily weighted crop dominates the real draws.
    assert (
        Counter(t for t, f in zip(texts, is_real.tolist(), strict=True) if f).most_common(1)[0][0]
        == train[4].text
    )
