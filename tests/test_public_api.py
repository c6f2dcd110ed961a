"""The public API as the README shows it: its Python snippet runs as written, on a real Xvfb
with the demo app, and the app's state file (outside screenagent) shows what it did."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, DemoApp

import screenagent
from screenagent.display import VirtualDisplay

pytestmark = [pytest.mark.display, pytest.mark.ocr]


def test_the_public_names() -> None:
    assert set(screenagent.__all__) >= {"Agent", "Session", "load_model", "read_errors", "Finding"}
    for name in screenagent.__all__:
        assert getattr(screenagent, name).__doc__, name


def test_the_readme_python_snippet_runs(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S)
    assert snippet is not None
    code = snippet.group(1).replace(
        '"examples/demo_app.py"]', f'"{ROOT / "examples" / "demo_app.py"}", "--state", '
        f'"{tmp_path / "state.json"}"]',
    )  # the demo app writes what happened to a state file: the judge outside screenagent
    script = tmp_path / "snippet.py"
    script.write_text(code)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300, env={**os.environ})  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Thank you, Ada Lovelace!" in proc.stdout
    assert "Grounding(" in proc.stdout and "grounded_by=<GroundedBy.OCR" in proc.stdout
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["submitted"] == [{"name": "Ada Lovelace", "email": "", "subscribe": True}]
    assert state["name"] == "" , "Clear emptied the form"


def test_agent_iter_yields_each_record_as_its_step_ends(demo_app: DemoApp,
                                                        xdisplay: VirtualDisplay) -> None:  # fmt: skip
    pytest.importorskip("rapidocr")
    from screenagent import Agent, Session

    with Session(display=xdisplay.display, failsafe=False) as s:
        gen = Agent().iter("click Subscribe to news; click Clear", session=s)
        first = next(gen)
        assert first.step is not None and first.step.text == "click Subscribe to news"
        # the first click happened before the second step ran
        state = demo_app.wait_for(lambda st: st["subscribe"])
        assert [c["widget"] for c in state["clicks"]] == ["subscribe"]
        rest = []
        while True:
            try:
                rest.append(next(gen))
            except StopIteration as stop:
                result = stop.value
                break
    assert [r.step.text for r in rest if r.step] == ["click Clear"]
    assert result.success and result.steps == 2
