"""The run directory: format, crash tolerance, loading back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from screenagent.errors import ConfigError
from screenagent.geometry import Frame, Rect
from screenagent.steplog import RunResult, StepLog, StepRecord, load_run, new_run_dir


def record(i: int) -> StepRecord:
    return StepRecord(
        index=i,
        started_at="2026-01-01T00:00:00Z",
        status="executed",
        action={"action": "move", "x": i, "y": i},
        raw=f"raw {i}",
    )


def test_round_trip(tmp_path: Path) -> None:
    log = StepLog.create(
        task="Fill the form", policy="script", executor="dry-run", run_dir=tmp_path / "r"
    )
    frame = Frame(
        image=Image.new("RGB", (64, 48), "red"), region=Rect(left=0, top=0, width=64, height=48)
    )
    rec = record(1)
    rec.frame = log.save_frame(1, frame)
    log.append(rec)
    log.append(record(2))
    meta_running = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta_running["result"]["status"] == "running"
    log.finish(RunResult(status="success", steps=2))
    loaded = load_run(tmp_path / "r")
    assert loaded.finished and loaded.meta.result.status == "success"
    assert [s.index for s in loaded.steps] == [1, 2]
    assert loaded.steps[0].frame == "step-0001.png"
    with Image.open(tmp_path / "r" / "step-0001.png") as png:
        assert png.size == (64, 48)
    assert loaded.meta.versions["screenagent"]


def test_a_torn_last_line_loses_only_that_line(tmp_path: Path) -> None:
    with StepLog.create(task="t", policy="p", executor="e", run_dir=tmp_path / "r") as log:
        for i in (1, 2, 3):
            log.append(record(i))
    with open(tmp_path / "r" / "steps.jsonl", "a") as f:
        f.write('{"index": 4, "started_at": "2026-')  # the process died mid-write
    loaded = load_run(tmp_path / "r")
    assert [s.index for s in loaded.steps] == [1, 2, 3]
    assert loaded.damaged_lines == [4]
    assert not loaded.finished


def test_new_run_dirs_are_timestamped_and_unique(tmp_path: Path) -> None:
    a = new_run_dir(tmp_path, "Fill the form: then Submit!")
    b = new_run_dir(tmp_path, "Fill the form: then Submit!")
    assert a != b and a.name.endswith("fill-the-form-then-submit")
    assert a.name[:8].isdigit() and a.name[8] == "T"


def test_an_existing_run_is_never_overwritten(tmp_path: Path) -> None:
    StepLog.create(task="t", policy="p", executor="e", run_dir=tmp_path / "r").finish(
        RunResult(status="success")
    )
    with pytest.raises(ConfigError, match="already holds a run"):
        StepLog.create(task="t", policy="p", executor="e", run_dir=tmp_path / "r")


def test_not_a_run_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a run directory"):
        load_run(tmp_path)
