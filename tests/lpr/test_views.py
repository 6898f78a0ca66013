"""`lpr read`'s views of a plate: the crop as cut, the tight box, the one-line layout of a
two-line plate, voted on (`combine_views`); `--crops` finds the plate in the crop first."""

from __future__ import annotations

import pytest

from anpr_core.settings import VisionSettings
from anpr_core.splits import real_crops
from lpr.imageio import load_image
from lpr.pipeline import PlateReader, combine_views
from lpr.recognizer import PlateReading, load_recognizer
from tests.conftest import SHARED_DATA

needs_data = pytest.mark.skipif(not (SHARED_DATA / "plates").is_dir(), reason="../shared/data is absent")


def test_a_view_that_misreads_alone_is_outvoted() -> None:
    views = [
        PlateReading("12가3456", 0.90, (("12나3456", 0.05),), "12가3456"),
        PlateReading("12가3456", 0.80, (), "12가3456"),
        PlateReading("12나3456", 0.95, (("12가3456", 0.04),), "12나3456"),  # the most confident, alone
    ]
    voted = combine_views(views)
    assert voted.text == "12가3456"
    assert voted.confidence == 0.90  # the most confident view that read it
    assert voted.alternatives[0][0] == "12나3456"
    assert voted.alternatives[0][1] <= voted.confidence


def test_a_text_that_is_no_views_best_gets_the_mean_and_nothing_read_stays_nothing() -> None:
    views = [
        PlateReading("11가1111", 0.3, (("22나2222", 0.6),), ""),
        PlateReading("33다3333", 0.3, (("22나2222", 0.6),), ""),
    ]
    voted = combine_views(views)
    assert voted.text == "22나2222" and voted.confidence == pytest.approx(0.6)
    empty = [PlateReading(None, 0.0, (), "x"), PlateReading(None, 0.0, (), "y")]
    assert combine_views(empty).text is None
    assert combine_views(empty).confidence == 0.0


def test_the_workers_take_the_more_confident_view_and_lpr_read_votes() -> None:
    """The workers' profile keeps the more confident of its views (the crop as cut and the
    one-line layout of a two-line box); `lpr read`'s profile (tight_view) votes (`combine_views`).
    Here the two disagree: the vote favours 12가3456 (mean 0.625), the best single view 12나3456."""
    views = [
        PlateReading("12가3456", 0.60, (("12나3456", 0.50),), ""),
        PlateReading("12나3456", 0.70, (("12가3456", 0.65),), ""),
    ]
    detector = None  # _choose looks at the readings only
    assert PlateReader(detector, None)._choose(views).text == "12나3456"  # type: ignore[arg-type]
    assert PlateReader(detector, None, tight_view=True)._choose(views).text == "12가3456"  # type: ignore[arg-type]


@needs_data
def test_crops_read_in_views_are_read_at_least_as_well_as_the_crop_alone() -> None:
    """Held-out real crops (texts never trained on): the views' vote is never worse, and a
    read it makes right is not taken back elsewhere (0.953 -> 0.964 on all 365 of them)."""
    _, validation = real_crops(SHARED_DATA / "plates")
    sample = validation[:120]
    images = [load_image(c.path) for c in sample]
    recognizer = load_recognizer()
    plain = recognizer.read(images)
    voted = PlateReader.for_crops(VisionSettings(), recognizer).read_crops(images)
    plain_right = sum(r.text == c.text for r, c in zip(plain, sample, strict=True))
    voted_right = sum(r is not None and r.text == c.text for r, c in zip(voted, sample, strict=True))
    assert voted_right >= plain_right
    assert voted_right >= 0.9 * len(sample)


def test_the_profiles_detector_inputs_come_from_the_settings() -> None:
    """Workers: SD frames at `detector_input_size`, HD frames at `detector_input_size_hd` (an
    explicit `--input-size` for all); `lpr read` keeps its own input for every frame."""
    vision = VisionSettings(detector_precision="fp32", detector_input_size=384, detector_input_size_hd=608)
    workers = PlateReader.for_workers(vision, None).detector
    assert (workers.input_size, workers.hd_input_size) == (384, 608)
    forced = PlateReader.for_workers(vision, None, input_size=320).detector
    assert (forced.input_size, forced.hd_input_size) == (320, 0)
    reading = PlateReader.for_reading(vision, None).detector
    assert (reading.input_size, reading.hd_input_size) == (vision.read_input_size, 0)
