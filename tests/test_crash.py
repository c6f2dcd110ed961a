"""A run killed with SIGKILL keeps every completed step, and the log loads back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from PIL import Image

from screenagent.display import VirtualDisplay
from screenagent.steplog import load_run

pytestmark = pytest.mark.display


def test_sigkill_mid_run_keeps_completed_steps(xdisplay: VirtualDisplay, tmp_path: Path) -> None:
    script = []
    for i in range(40):
        script.append({"action": "move", "x": 100 + i * 10, "y": 100 + i * 5})
        script.append({"action": "wait", "seconds": 0.05})
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "screenagent",
            "run",
            "long run",
            "--script",
            str(path),
            "--run-dir",
            str(run_dir),
        ],
        env=dict(xdisplay.env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    steps_file = run_dir / "steps.jsonl"
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            if steps_file.exists() and steps_file.read_text().count("\n") >= 6:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the run never wrote 6 steps")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    loaded = load_run(run_dir)
    assert loaded.meta.result.status == "running"  # never finished, and says so
    assert loaded.damaged_lines in ([], [len(loaded.steps) + 1])
    assert len(loaded.steps) >= 6
    assert [s.index for s in loaded.steps] == list(range(1, len(loaded.steps) + 1))
    for step in loaded.steps:
        assert step.status == "executed"
        assert step.action == script[step.index - 1] | (
            {"action": "move"} if step.action["action"] == "move" else {}
        )
        with Image.open(run_dir / step.frame) as png:
            png.load()
            assert png.size == (1280, 800)
