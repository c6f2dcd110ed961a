"""Scale-out of GUI test runs (issue 22, parts 1-2): pytest-xdist over YAML tests (one report,
one JUnit and one grounding cache across workers, no two running tests on one display), and
shards (`screenagent test --shard I/N`, `pytest --gui-shard I/N`) that are disjoint, cover
everything and merge into one report. Real pytest-xdist workers, real Xvfb displays, the demo app."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import ROOT, cli

from screenagent.testing.scale import (
    Shard,
    ShardError,
    assign,
    missing_shards,
    results_from,
    unit_key,
)

DEMO = ROOT / "examples" / "demo_app.py"
CLEAR = f"""name: Clear
app: {{launch: ["{sys.executable}", "{DEMO}"], ready: "Submit"}}
tests:
  - name: clears the form
    steps:
      - click: "Clear"
      - expect_visible: "Cleared"
"""


def suite(folder: Path) -> Path:
    """Four demo-app tests in two files."""
    folder.mkdir(parents=True)
    text = (ROOT / "examples" / "gui_tests" / "test_contact_form.yaml").read_text()
    text = text.replace('"python3", "../demo_app.py"', f'"{sys.executable}", "{DEMO}"')
    (folder / "test_form.yaml").write_text(text)
    (folder / "test_clear.yaml").write_text(CLEAR)
    return folder


# -- pure ---------------------------------------------------------------------------------------


def test_shards_split_deterministically_and_balance_by_duration() -> None:
    units = {f"t{i}": None for i in range(7)}
    parts = [assign(units, Shard(i, 3)) for i in (1, 2, 3)]
    assert set().union(*parts) == set(units) and sum(map(len, parts)) == 7  # disjoint, complete
    assert parts == [assign(units, Shard(i, 3)) for i in (1, 2, 3)]  # the same every time
    timed = {"a": 50.0, "b": 10.0, "c": 10.0, "d": 10.0, "e": 10.0, "f": 10.0}
    one, two = assign(timed, Shard(1, 2)), assign(timed, Shard(2, 2))
    assert one == {"a"} and two == {"b", "c", "d", "e", "f"}  # 50 s against 50 s
    unknown = {**timed, "g": None}  # an unknown test counts as the median (10 s)
    assert sum(timed.get(k) or 10.0 for k in assign(unknown, Shard(1, 2))) <= 60


def test_shard_parsing_and_missing_shards() -> None:
    assert str(Shard.parse("2/3")) == "2/3"
    for bad in ("0/2", "3/2", "x", "1-2"):
        with pytest.raises(ShardError):
            Shard.parse(bad)
    assert missing_shards([Shard(1, 3), Shard(3, 3)]) == ["shard 2/3 is missing"]
    assert missing_shards([Shard(1, 2), Shard(2, 2)]) == []


def test_a_summary_from_another_machine_is_re_rooted(tmp_path: Path) -> None:
    summary = {"report_dir": "/ci/job-7/report", "tests": [{
        "file": "gui/test_a.yaml", "name": "x", "line": 3, "status": "passed", "duration": 1.5, "tags": [],
        "attempts": [{"status": "passed", "message": None, "duration": 1.5, "artifacts": "/ci/job-7/report/test-a/x/attempt-1",
                      "display": ":9", "worker": 1, "started": 0, "steps": []}]}]}  # fmt: skip
    (result,) = results_from(summary, tmp_path)
    assert result.attempts[0].artifacts == str(tmp_path / "test-a" / "x" / "attempt-1")
    assert result.line == 3 and unit_key(result.file, result.name) == "gui/test_a.yaml::x"


# -- real runs ----------------------------------------------------------------------------------


def _overlapping_share_no_display(summary: dict) -> None:
    attempts = [a for t in summary["tests"] for a in t["attempts"]]
    for i, a in enumerate(attempts):
        for b in attempts[i + 1:]:
            overlap = a["started"] < b["started"] + b["duration"] and b["started"] < a["started"] + a["duration"]
            if overlap:
                assert a["display"] != b["display"], (a, b)


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_pytest_xdist_two_workers_one_report_one_junit_one_cache(tmp_path: Path) -> None:
    gui = suite(tmp_path / "gui")
    report, cache = tmp_path / "report", tmp_path / "cache.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", str(gui),
         "--gui-report", str(report), "--gui-cache", str(cache)],
        cwd=tmp_path, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout
    junit = ET.parse(report / "junit.xml").getroot()
    assert junit.get("tests") == "4" and len(junit.findall(".//testcase")) == 4
    summary = json.loads((report / "summary.json").read_text())
    assert [t["status"] for t in summary["tests"]] == ["passed"] * 4
    assert len({a["worker"] for t in summary["tests"] for a in t["attempts"]}) == 2  # both workers ran tests
    _overlapping_share_no_display(summary)
    assert "clears the form" in (report / "index.html").read_text()
    targets = {e["target"] for e in json.loads(cache.read_text())["entries"].values()}
    assert {"Clear", "Submit", "Refresh"} <= targets  # both workers' entries, written once


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_cli_shards_are_disjoint_cover_everything_and_merge(tmp_path: Path) -> None:
    gui = suite(tmp_path / "gui")
    ran = {}
    for i in (1, 2):
        proc = cli("test", str(gui), "--shard", f"{i}/2", "--report", str(tmp_path / f"s{i}"), timeout=400)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        summary = json.loads((tmp_path / f"s{i}" / "summary.json").read_text())
        ran[i] = {unit_key(t["file"], t["name"]) for t in summary["tests"]}
    assert ran[1] and ran[2] and not ran[1] & ran[2] and len(ran[1] | ran[2]) == 4
    # a second shard writing into the first one's folder (or inside it) is refused before running
    clash = cli("test", str(gui), "--shard", "2/2", "--report", str(tmp_path / "s1" / "inner"), timeout=60)
    assert clash.returncode == 2 and "output folder of shard 1/2" in clash.stderr
    merged = cli("merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(tmp_path / "all"),
                 "--junit", str(tmp_path / "all.xml"), timeout=120)  # fmt: skip
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "4 tests from 2 folders: 4 passed" in merged.stdout
    assert ET.parse(tmp_path / "all.xml").getroot().get("tests") == "4"
    index = (tmp_path / "all" / "index.html").read_text()
    srcs = [s.split('"')[0] for s in index.split('src="')[1:]]
    assert srcs and all((tmp_path / "all" / s).is_file() for s in srcs)  # the shards' pictures, linked
    missing = cli("merge", str(tmp_path / "s1"), "--out", str(tmp_path / "half"), timeout=60)
    assert missing.returncode == 1 and "shard 2/2 is missing" in missing.stderr
    twice = cli("merge", str(tmp_path / "s1"), str(tmp_path / "s1"), "--out", str(tmp_path / "x"), timeout=60)
    assert twice.returncode == 2 and "overlap" in twice.stderr


def test_pytest_gui_shard_collects_disjoint_parts(tmp_path: Path) -> None:
    gui = suite(tmp_path / "gui")
    (gui / "test_plain.py").write_text("".join(f"def test_{i}():\n    pass\n" for i in range(5)))
    seen = []
    for i in (1, 2, 3):
        proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                               str(gui), "--gui-shard", f"{i}/3"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        seen.append({line for line in proc.stdout.splitlines() if "::" in line})
    assert sum(map(len, seen)) == 9 and len(set().union(*seen)) == 9  # 4 YAML + 5 Python, each once
