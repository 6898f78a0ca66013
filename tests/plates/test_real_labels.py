"""Every real label in ../shared/data parses with the grammar, with the format it claims."""

from __future__ import annotations

import csv
import json

import pytest

from anpr_core.plates import parse_plate
from tests.conftest import SHARED_DATA

FORMAT_OF_LABEL = {"old7": "old7", "new8": "new8", "regional": "regional"}


@pytest.mark.skipif(not (SHARED_DATA / "plates" / "labels.csv").is_file(), reason="../shared/data is absent")
def test_every_real_plate_label_parses_with_its_format() -> None:
    with open(SHARED_DATA / "plates" / "labels.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 2000
    wrong = [(r["text"], r["format"]) for r in rows if parse_plate(r["text"]).format.value != r["format"]]
    assert wrong == []


@pytest.mark.skipif(not (SHARED_DATA / "scenes" / "labels.json").is_file(), reason="../shared/data is absent")
def test_every_real_scene_label_parses() -> None:
    scenes = json.loads((SHARED_DATA / "scenes" / "labels.json").read_text(encoding="utf-8"))
    texts = [p["text"] for s in scenes for p in s["plates"] if p["text"]]
    assert len(texts) >= 20
    assert all(parse_plate(t).text == t for t in texts)
