"""`screenagent test`: YAML tests run for real on fresh Xvfb displays against the demo app,
with JUnit, the summary, the HTML report, retries/flaky, soft/optional steps, workers, the
grounding cache, broken files, and the pytest plugin."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, DemoApp, cli
from PIL import Image

from screenagent.display import VirtualDisplay
from screenagent.geometry import Box
from screenagent.grounding import Grounding
from screenagent.grounding.cache import GroundingCache
from screenagent.testing.spec import TestFileError, load_test_file, parse_duration

DATA = ROOT / "tests" / "gui_data"


def env(**extra: str) -> dict[str, str]:
    import os

    return {**os.environ, "PYTHON": sys.executable, **extra}


def steps_of(test: dict[str, Any], attempt: int = -1) -> list[dict[str, Any]]:
    return list(test["attempts"][attempt]["steps"])


# -- files -------------------------------------------------------------------------------------


def test_broken_files_give_line_numbered_errors_and_run_nothing(tmp_path: Path) -> None:
    with pytest.raises(TestFileError) as err:
        load_test_file(DATA / "broken.yaml")
    text = str(err.value)
    assert "line 5: test 'typos', step 1: unknown step 'clik'" in text
    assert "line 6: test 'typos', step 2: click: timeout: 'soon' is not a duration" in text
    assert "line 8: test 'typos', step 3: type: colour: unknown option for type" in text
    proc = cli("test", str(DATA / "broken.yaml"), "--report", str(tmp_path / "r"), env=env())
    assert proc.returncode == 2 and "line 5:" in proc.stderr
    assert not (tmp_path / "r").exists()  # nothing ran, no report


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\ntests: []\n", "line 2: `tests:` must be a non-empty list"),
        ("name: x\ntests:\n  - name: a\n    steps:\n      - click: [unclosed\n", "line 6, column 1: not valid YAML"),
        ("name: x\ntests:\n  - name: a\n    steps:\n      - click:\n", "click: target: missing"),
        ("name: x\nwhat: 1\ntests:\n  - name: a\n    steps: [{press: enter}]\n",
         "line 2: unknown key 'what'"),
        ("name: x\ntests:\n  - name: a\n    steps:\n      - wait_for: '${NOPE_X}'\n",
         "line 5: unknown variable ${NOPE_X}"),
        ("name: x\ntests:\n  - name: a\n    steps:\n      - expect_text: {contains: a, equals: b}\n",
         "exactly one of equals, contains or matches"),
        ("name: x\ntests:\n  - name: a\n    steps:\n      - click: 'OK #x'\n      - press: enter\n        times: 0\n",
         "line 6: test 'a', step 2: press: times"),
    ],
)  # fmt: skip
def test_file_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(TestFileError, match=re.escape(message)):
        load_test_file(path)


def test_a_valid_file_parses_into_steps_with_options() -> None:
    path = ROOT / "examples" / "gui_tests" / "test_contact_form.yaml"
    tf = load_test_file(path)
    assert tf.app is not None and tf.app.launch == ["python3", "../demo_app.py"]
    first = tf.tests[0].steps[0]
    assert first.verb == "type" and first.label() == "type 'Ada Lovelace' into 'Name'"
    assert [s.verb for s in tf.tests[1].steps][:2] == ["click", "expect_error"]
    assert parse_duration("500ms") == 0.5 and parse_duration("2m") == 120 and parse_duration(3) == 3


# -- the cache (pure) -------------------------------------------------------------------------------


def test_cache_accepts_a_box_only_where_its_crop_still_matches(tmp_path: Path) -> None:
    from PIL import ImageDraw

    def screen(x: int) -> Image.Image:
        img = Image.new("RGB", (400, 200), "white")
        ImageDraw.Draw(img).rectangle((x, 50, x + 60, 80), outline="black", fill="#3366cc")
        ImageDraw.Draw(img).text((x + 8, 58), "Save", fill="white")
        return img

    g = Grounding(target="Save", x=130, y=65, box=Box(x1=100, y1=50, x2=161, y2=81), text="Save",
                  score=1.0, grounded_by="ocr")  # fmt: skip
    cache = GroundingCache(tmp_path / "c.json", "read-write")
    cache.store("ocr", screen(100), g)
    cache.save()
    ro = GroundingCache(tmp_path / "c.json", "read-only")
    hit = ro.lookup("Save", "ocr", screen(100))
    assert (
        hit.reason == "hit" and hit.grounding is not None and hit.grounding.grounded_by == "cache"
    )
    assert (hit.grounding.x, hit.grounding.y) == (130, 65)
    moved = ro.lookup("Save", "ocr", screen(200))
    assert moved.reason == "moved" and moved.grounding is None and (moved.score or 0) < 0.95
    assert ro.lookup("Save", "vlm:x", screen(100)).reason == "miss"  # another grounder
    assert ro.lookup("Save", "ocr", screen(100).resize((800, 400))).reason == "miss"  # size


# -- real runs on Xvfb -------------------------------------------------------------------------------


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_suite_junit_has_one_failure_and_one_flaky(tmp_path: Path) -> None:
    report, junit = tmp_path / "report", tmp_path / "junit.xml"
    proc = cli("test", str(DATA / "suite.yaml"), "--retries", "1", "--junit", str(junit),
               "--report", str(report), env=env(MARKER=str(tmp_path / "marker")), timeout=400)  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    summary = json.loads((report / "summary.json").read_text())
    status = {t["name"]: t["status"] for t in summary["tests"]}
    assert status == {
        "flaky by design": "flaky",
        "submits the form": "passed",
        "fails on a button that is not there": "failed",
        "a target that appears after a delay": "passed",
        "the error dialog goes away": "passed",
    }, proc.stdout
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "5" and suite.get("failures") == "1"
    failures = suite.findall(".//failure")
    assert len(failures) == 1
    message = failures[0].get("message") or ""
    # test, step, target, grounder, best candidate + score, timeout, screenshot
    for part in ("test 'fails on a button that is not there'", "suite.yaml:24", "step 1 `click 'Send now'`",
                 "target 'Send now' not found by ocr within 2 s", "score 0.", "Screenshot: "):  # fmt: skip
        assert part in message, message
    shot = Path(message.split("Screenshot: ")[1].rstrip("."))
    assert shot.exists() and shot.suffix == ".png"
    flaky = next(t for t in summary["tests"] if t["status"] == "flaky")
    assert [a["status"] for a in flaky["attempts"]] == ["failed", "passed"]
    assert "flaky: passed on attempt 2" in ET.tostring(suite, encoding="unicode")
    delayed = next(
        t for t in summary["tests"] if t["name"] == "a target that appears after a delay"
    )
    click_report = steps_of(delayed)[1]
    # "Open report" appears 1.5 s after Refresh: the click looked more than once before acting
    assert click_report["looks"] > 1 and click_report["grounded_by"] == "ocr"
    assert click_report["box"] and click_report["point"]
    # the HTML report: offline, relative JPEG paths that exist, filters
    index = (report / "index.html").read_text()
    assert "http://" not in index and "https://" not in index
    assert 'data-f="flaky"' in index and 'data-status="failed"' in index
    srcs = [s.split('"')[0] for s in index.split('src="')[1:]]
    assert srcs and all(not s.startswith("/") and (report / s).is_file() for s in srcs)
    assert "locate" in index and "settle" in index and "act" in index


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_soft_and_optional_steps_with_two_workers_on_two_displays(tmp_path: Path) -> None:
    report = tmp_path / "report"
    proc = cli("test", str(DATA / "soft.yaml"), "--workers", "2", "--report", str(report),
               env=env(), timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    summary = json.loads((report / "summary.json").read_text())
    soft, plain = summary["tests"]
    assert plain["status"] == "passed" and soft["status"] == "failed"
    assert [s["status"] for s in steps_of(soft)] == [
        "skipped",
        "soft-failed",
        "passed",
        "passed",
        "passed",
    ]
    assert "1 soft assertion failed" in soft["message"] and "Welcome back" in soft["message"]
    displays = {t["attempts"][0]["display"] for t in summary["tests"]}
    pids = {t["attempts"][0]["worker"] for t in summary["tests"]}
    assert len(displays) == 2 and len(pids) == 2, summary


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_cache_read_only_run_grounds_from_cache_and_rejects_a_moved_target(tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"

    def run(mode: str, at: str) -> list[dict[str, Any]]:
        report = tmp_path / f"r-{mode}-{at}"
        proc = cli("test", str(DATA / "cache.yaml"), "--cache", mode, "--cache-file", str(cache),
                   "--report", str(report), env=env(AT=at), timeout=200)  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return steps_of(json.loads((report / "summary.json").read_text())["tests"][0])

    cold = run("read-write", "0,0")
    assert [s.get("grounded_by") for s in cold if s["verb"] == "click"] == ["ocr", "ocr"]
    saved = cache.read_text()
    warm = run("read-only", "0,0")
    assert [s.get("grounded_by") for s in warm if s["verb"] == "click"] == ["cache", "cache"]
    moved = run("read-only", "150,90")
    clicks = [s for s in moved if s["verb"] == "click"]
    assert [s.get("grounded_by") for s in clicks] == ["ocr", "ocr"]  # rejected, grounded again
    assert clicks[0]["point"][0] > 150
    assert cache.read_text() == saved  # read-only never writes


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_pytest_plugin_collects_and_runs_yaml_tests(tmp_path: Path) -> None:
    (tmp_path / "gui").mkdir()
    text = (ROOT / "examples" / "gui_tests" / "test_contact_form.yaml").read_text()
    text = text.replace(
        '"python3", "../demo_app.py"', f'"{sys.executable}", "{ROOT / "examples" / "demo_app.py"}"'
    )
    (tmp_path / "gui" / "test_form.yaml").write_text(text)
    (tmp_path / "gui" / "test_fixtures.py").write_text(
        "def test_python_api(launch_app, gui):\n"
        f"    launch_app([{sys.executable!r}, {str(ROOT / 'examples' / 'demo_app.py')!r}], ready='Submit')\n"
        "    gui.type('Ada', into='Name')\n"
        "    gui.click('Submit')\n"
        "    gui.expect_visible('Thank you, Ada!')\n"
        "    gui.expect_not_visible('Name is required.', timeout=1)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", str(tmp_path / "gui"),
         "--junitxml", str(tmp_path / "junit.xml")],
        cwd=tmp_path, capture_output=True, text=True, timeout=400, env=env(),
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "test_form.yaml::submits the form with a name PASSED" in out
    assert "test_fixtures.py::test_python_api PASSED" in out
    assert ET.parse(tmp_path / "junit.xml").getroot().find("testsuite").get("tests") == "4"  # type: ignore[union-attr]


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_expect_statements_are_judged_by_a_real_tiny_model(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    """`expect:` with --model: a tiny Qwen2.5-VL overfitted to judge one statement true and
    another false; the verdict's reason reaches the summary and the failure message."""
    pytest.importorskip("torch")
    from tiny_vlm import build_tiny_qwen25vl, overfit

    from screenagent.screen import MssScreen
    from screenagent.testing.judge import SYSTEM, VLMJudge

    with MssScreen(display=xdisplay.display) as screen:
        image = screen.capture().image  # the demo app, as the judge will see it
    yes, no = "The status bar says Cleared", "A red warning is shown"
    prompt = VLMJudge.prompt  # the exact user turn the judge sends
    answers = [
        (prompt(yes), '{"pass": true, "reason": "the status bar reads Cleared"}'),
        (prompt(no), '{"pass": false, "reason": "there is no red warning"}'),
    ]
    folder = build_tiny_qwen25vl(
        tmp_path / "model", [SYSTEM, *(p for p, _ in answers), *(a for _, a in answers)]
    )
    loss = overfit(folder, image, answers[0][0], answers[0][1], system=SYSTEM,
                   more=[(SYSTEM, answers[1][0], answers[1][1])])  # fmt: skip
    assert loss < 0.05, f"the tiny model did not learn its verdicts (loss {loss:.3f})"
    test = tmp_path / "judge.yaml"
    test.write_text(
        "name: judged\napp:\n"
        f'  launch: ["{sys.executable}", "{ROOT / "examples" / "demo_app.py"}"]\n'
        '  ready: "Submit"\ntests:\n'
        f'  - name: true statement\n    steps:\n      - click: "Clear"\n      - expect: "{yes}"\n'
        f'  - name: false statement\n    steps:\n      - expect: "{no}"\n        timeout: 1s\n'
    )
    report = tmp_path / "report"
    proc = cli("test", str(test), "--model", f"hf:{folder}", "--family", "qwen2.5-vl",
               "--min-pixels", "3136", "--max-pixels", str(28 * 28 * 64), "--report", str(report),
               env=env(), timeout=400)  # fmt: skip
    assert proc.returncode == 1 and (report / "summary.json").exists(), proc.stdout + proc.stderr
    good, bad = json.loads((report / "summary.json").read_text())["tests"]
    assert good["status"] == "passed" and bad["status"] == "failed"
    judged = steps_of(good)[1]
    assert (
        judged["grounded_by"] == "model"
        and judged["detail"]["reason"] == "the status bar reads Cleared"
    )
    assert f"the model judged {no!r} false: there is no red warning" in bad["message"]
    # without a model, files with `expect:` are refused before anything runs
    proc = cli("test", str(test), "--report", str(tmp_path / "r2"), env=env())
    assert proc.returncode == 2 and "judged by a model: run with --model" in proc.stderr


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_double_click_scroll_in_drag_and_right_click_with_image_targets(tmp_path: Path) -> None:
    report = tmp_path / "report"
    proc = cli("test", str(DATA / "vocab.yaml"), "--report", str(report), env=env(), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = steps_of(json.loads((report / "summary.json").read_text())["tests"][0])
    by = {s["verb"]: s.get("grounded_by") for s in steps}
    assert by["double_click"] == "ocr" and by["drag"] == "image" and by["right_click"] == "image"
    drag = next(s for s in steps if s["verb"] == "drag")
    assert drag["point"] != drag["detail"]["to"]["point"]


def test_expect_in_before_each_without_a_model_is_refused_before_running(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "name: x\nbefore_each:\n  - expect: 'the app shows its main window'\n"
        "tests:\n  - name: a\n    steps:\n      - press: enter\n"
    )
    proc = cli("test", str(path), "--report", str(tmp_path / "r"), env=env())
    assert proc.returncode == 2 and "t.yaml:3" in proc.stderr, proc.stderr
    assert not (tmp_path / "r").exists()
