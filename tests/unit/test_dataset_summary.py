"""The Summary dataclass: written as summary.json, read back as the same object, bad files named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smoothie.dataset.options import PrepOptions
from smoothie.dataset.pipeline import prepare
from smoothie.dataset.preview import ReportError, read_run
from smoothie.dataset.summary import Summary
from tests.unit.test_dataset_pipeline import small_folder


def test_summary_json_round_trips_and_broken_files_are_named(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    small_folder(src, 4)
    result = prepare(PrepOptions(src, dst, min_sharpness="off"))
    data = json.loads((dst / "summary.json").read_text(encoding="utf-8"))
    assert data == result.summary.to_json()
    assert Summary.from_json(data) == result.summary
    assert data["counts"]["kept"] == result.summary.counts.kept == 4
    assert data["cooccurrence"]["min_support"] == 3
    report, summary, root = read_run(str(dst))
    assert summary == result.summary and root == dst.resolve() and len(report["images"]) == 4
    for broken, message in [
        ("{not json", "summary.json .* cannot be read"),
        ('{"counts": {}}', "summary.json .* cannot be read: not a summary of this version"),
        ("[1, 2]", "expected a JSON object"),
    ]:
        (dst / "summary.json").write_text(broken, encoding="utf-8")
        with pytest.raises(ReportError, match=message):
            read_run(str(dst))
    (dst / "summary.json").write_text(json.dumps(data), encoding="utf-8")
    (dst / "report.json").write_text('{"images": 3}', encoding="utf-8")
    with pytest.raises(ReportError, match=r"report\.json .* cannot be read"):
        read_run(str(dst))
    (dst / "summary.json").unlink()
    with pytest.raises(ReportError, match=r"no summary\.json"):
        read_run(str(dst))
    with pytest.raises(ReportError, match="choose the output folder"):
        read_run("  ")
