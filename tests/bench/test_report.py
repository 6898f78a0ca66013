"""The benchmarks' shared ending: the JSON report on disk, the reader told where it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anpr.bench import write_report


def test_report_written_and_printed_when_no_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deep" / "bench.json"
    write_report({"plate": "12가3456", "p95_ms": 113}, out)
    assert json.loads(out.read_text(encoding="utf-8")) == {"plate": "12가3456", "p95_ms": 113}
    assert "12가3456" in out.read_text(encoding="utf-8")  # Korean kept, not \\u-escaped
    assert json.loads(capsys.readouterr().out) == {"plate": "12가3456", "p95_ms": 113}


def test_summary_printed_in_place_of_the_json_then_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    write_report({"n": 1}, out, "n = 1")
    assert capsys.readouterr().out.splitlines() == ["n = 1", f"→ {out}"]
    assert json.loads(out.read_text(encoding="utf-8")) == {"n": 1}


def test_no_out_only_prints(capsys: pytest.CaptureFixture[str]) -> None:
    write_report({"n": 2}, None)
    assert json.loads(capsys.readouterr().out) == {"n": 2}
