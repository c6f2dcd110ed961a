"""Reports, replay and run listings on real runs of the demo app."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DemoApp, cli, launch_demo
from PIL import Image, ImageStat

from screenagent.display import VirtualDisplay
from screenagent.steplog import load_run

pytestmark = pytest.mark.display

TASK = 'type "Ada Lovelace" into Name; click Subscribe to news; click Refresh; click Open report; click Submit; expect Thank you'
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def moved_app(xdisplay: VirtualDisplay, tmp_path: Path) -> Iterator[DemoApp]:
    app = launch_demo(xdisplay, tmp_path / "moved.json", "--at", "240,90")
    yield app
    app.proc.terminate()
    app.proc.wait(timeout=5)


def _final(state: dict) -> tuple:
    return (state["submitted"], state["reports"], state["subscribe"])


def headless(html: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Chromium, headless, with its own profile and no way to resolve any host name."""
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--no-first-run", *args, html.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.ocr
def test_report_replay_and_reground(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pytest.importorskip("rapidocr")
    run_dir = tmp_path / "run"
    proc = cli("run", TASK, "--run-dir", str(run_dir), "--report", env=dict(xdisplay.env))
    assert proc.returncode == 0, proc.stderr
    assert f"report: {run_dir / 'report.html'}" in proc.stderr
    expected = _final(demo_app.state())
    assert expected[0][0]["name"] == "Ada Lovelace" and expected[1] == 1

    # -- the report -------------------------------------------------------------------------
    html_path = run_dir / "report.html"
    page = html_path.read_text(encoding="utf-8")
    steps = load_run(run_dir).steps
    assert f'data-steps="{len(steps)}"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), (
        "the report must not load anything remote"
    )
    for src in re.findall(r'src="([^"]+)"', page):
        assert (run_dir / src).is_file(), src
    # every record's picture exists and is cropped to the window (smaller than the frame)
    crops = re.findall(r'src="(report/step-\d+\.jpg)"', page)
    assert len(crops) == len([s for s in steps if s.frame])
    with Image.open(run_dir / crops[0]) as crop, Image.open(run_dir / steps[0].frame) as frame:
        assert crop.width < frame.width and crop.height < frame.height

    # -- replay on a fresh app in the same place reproduces the final state ---------------------
    demo_app.proc.terminate()
    demo_app.proc.wait(timeout=5)
    again = launch_demo(xdisplay, tmp_path / "again.json")
    request.addfinalizer(lambda: (again.proc.terminate(), again.proc.wait(timeout=5)))
    proc = cli(
        "replay", str(run_dir), "--run-dir", str(tmp_path / "replay"), env=dict(xdisplay.env)
    )
    assert proc.returncode == 0, proc.stderr
    assert _final(again.wait_for(lambda s: s["submitted"])) == expected
    replayed = load_run(tmp_path / "replay")
    assert replayed.meta.policy == "replay" and replayed.meta.settings["replay_of"] == str(run_dir)
    again.proc.terminate()
    again.proc.wait(timeout=5)

    # -- with the window moved, plain replay refuses and --reground still works ---------------
    moved = launch_demo(xdisplay, tmp_path / "moved.json", "--at", "240,90")
    request.addfinalizer(lambda: (moved.proc.terminate(), moved.proc.wait(timeout=5)))
    proc = cli(
        "replay",
        str(run_dir),
        "--timeout",
        "2",
        "--run-dir",
        str(tmp_path / "plain"),
        env=dict(xdisplay.env),
    )
    assert proc.returncode == 1
    assert "Replay stopped at recorded step 1" in proc.stderr and "--reground" in proc.stderr
    assert moved.state()["clicks"] == []  # nothing was clicked blindly
    proc = cli(
        "replay",
        str(run_dir),
        "--reground",
        "--run-dir",
        str(tmp_path / "reground"),
        env=dict(xdisplay.env),
    )
    assert proc.returncode == 0, proc.stderr
    assert _final(moved.wait_for(lambda s: s["submitted"])) == expected


def assert_renders(html_path: Path, tmp_path: Path) -> int:
    """Open the page in headless Chromium: every image loads and the page is not blank.
    Returns the number of images."""
    dom = headless(html_path, tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom")
    body = re.search(r"<body[^>]*>", dom.stdout)
    assert body, dom.stderr[-2000:]
    total = re.search(r'data-images-total="(\d+)"', body.group(0))
    loaded = re.search(r'data-images-loaded="(\d+)"', body.group(0))
    assert total and loaded and total.group(1) == loaded.group(1), body.group(0)
    shot = tmp_path / "page.png"
    headless(html_path, tmp_path / "profile", "--window-size=1280,1600", f"--screenshot={shot}")
    with Image.open(shot) as png:
        assert png.size == (1280, 1600)
        assert max(ImageStat.Stat(png.convert("L")).stddev) > 20, "the page rendered blank"
    return int(total.group(1))


@pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (.ci/setup.sh installs it)")
def test_the_report_renders_in_a_browser(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    name = demo_app.center("name")
    script = tmp_path / "s.json"
    script.write_text(json.dumps([{"action": "click", "x": name[0], "y": name[1]},
                                  {"action": "type", "text": "Ada"}]))  # fmt: skip
    run_dir = tmp_path / "run"
    proc = cli("run", "fill", "--script", str(script), "--run-dir", str(run_dir), "--report",
               env=dict(xdisplay.env))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    steps = load_run(run_dir).steps
    # per record: the crop and its film-strip thumbnail; per action step: the screen after
    assert assert_renders(run_dir / "report.html", tmp_path) >= 2 * len(steps)


def test_secrets_stay_out_of_the_report(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    secret = "hunter2-do-not-log"
    email = demo_app.center("email")
    script = tmp_path / "s.json"
    script.write_text(json.dumps([
        {"action": "click", "x": email[0], "y": email[1]},
        {"action": "type", "text": secret, "secret": True},
    ]))  # fmt: skip
    run_dir = tmp_path / "run"
    proc = cli(
        "run",
        "log in",
        "--script",
        str(script),
        "--run-dir",
        str(run_dir),
        "--report",
        env=dict(xdisplay.env),
    )
    assert proc.returncode == 0, proc.stderr
    assert demo_app.wait_for(lambda s: s["email"] == secret)
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert 'alt="step 2: type «secret»"' in page
    # a run that typed a secret cannot be replayed (the log never had the text)
    proc = cli("replay", str(run_dir), env=dict(xdisplay.env))
    assert proc.returncode == 2 and "typed secret text" in proc.stderr


def test_jsonl_runs_list_and_show(xdisplay: VirtualDisplay, tmp_path: Path) -> None:
    script = tmp_path / "s.json"
    script.write_text(
        '[{"action": "move", "x": 10, "y": 10}, {"action": "done", "success": true, "answer": "ok"}]'
    )
    root = tmp_path / "runs"
    proc = cli(
        "run",
        "move around",
        "--script",
        str(script),
        "--runs-root",
        str(root),
        "--jsonl",
        env=dict(xdisplay.env),
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [x["type"] for x in lines] == ["step", "step", "result"]
    assert lines[0]["action"] == {"action": "move", "x": 10, "y": 10}
    assert lines[-1]["status"] == "success" and lines[-1]["answer"] == "ok"
    run_dir = Path(lines[-1]["run_dir"])
    proc = cli("runs", "list", "--runs-root", str(root))
    assert (
        proc.returncode == 0
        and run_dir.name in proc.stdout
        and "success" in proc.stdout
        and "move around" in proc.stdout
    )
    proc = cli("runs", "show", str(run_dir))
    assert proc.returncode == 0
    assert "result:   success after 2 steps · answer: ok" in proc.stdout
    assert "move to (10, 10)" in proc.stdout
    proc = cli("report", str(run_dir))
    assert proc.returncode == 0 and proc.stdout.strip() == str(run_dir / "report.html")
