"""Real apps from Debian (nobody here wrote them) on the owned desktop (Xvfb + openbox + D-Bus +
AT-SPI), driven through the public API; each effect is checked outside screenagent (see
`tests/apps/corpus.py`). Tasks that need what later issues build are strict xfails naming the
issue: when they start passing, the suite says so.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from apps.corpus import TASKS

pytestmark = [pytest.mark.display, pytest.mark.ocr, pytest.mark.slow]
pytest.importorskip("rapidocr", reason="the [ocr] extra is not installed")

NEEDS_LATER: dict[str, str] = {}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=NEEDS_LATER[n]))
     if n in NEEDS_LATER else n for n in TASKS],
)  # fmt: skip
def test_corpus_task(name: str, tmp_path: Path) -> None:
    program, task = TASKS[name]
    if shutil.which(program) is None and not (program == "chromium" and shutil.which("chromium-browser")):
        pytest.skip(f"{program} is not installed (.ci/setup.sh installs it)")
    outcome = task(tmp_path)
    assert outcome.ok, f"{name}: the outside check saw {outcome.seen}"


def test_the_launched_window_is_focused_and_logged(tmp_path: Path) -> None:
    """The app's window is known (pid, class, box), focused by the window manager, and written
    to the run log."""
    from apps.corpus import private_home

    from screenagent import Session, load_run
    from screenagent.windows import active_window

    if shutil.which("mousepad") is None:
        pytest.skip("mousepad is not installed (.ci/setup.sh installs it)")
    with Session(virtual_display="1280x800", launch=["mousepad"], env=private_home(tmp_path),
                 run_dir=tmp_path / "run", failsafe=False) as s:  # fmt: skip
        assert s.app is not None and s.app.window is not None
        assert active_window(s.display) == s.app.window.id
        window = s.app.window_json()
    run = load_run(tmp_path / "run")
    assert run.meta.settings["app"]["window"] == window
    assert window is not None and window["class"] == ["mousepad", "Mousepad"]
    assert window["pid"] == run.meta.settings["app"]["pid"]


def test_a_launch_that_exits_at_once_is_a_clear_error(tmp_path: Path) -> None:
    from screenagent import Session
    from screenagent.launch import AppExited

    script = tmp_path / "bad.py"
    script.write_text("import sys\nprint('no config file', file=sys.stderr)\nsys.exit(3)\n")
    session = Session(virtual_display="800x600", launch=[sys.executable, str(script)])
    with pytest.raises(AppExited) as err:
        session.start()
    assert "exited with code 3" in str(err.value) and "no config file" in str(err.value)
    assert session._vd is None, "the desktop was torn down"


def test_an_app_that_never_gets_ready_names_the_windows_and_a_screenshot(tmp_path: Path) -> None:
    from screenagent import Session
    from screenagent.launch import AppNotReady

    demo = Path(__file__).resolve().parents[1] / "examples" / "demo_app.py"
    session = Session(virtual_display="1280x800", launch=[sys.executable, str(demo)],
                      ready="Launch the rockets", app_timeout=4)  # fmt: skip
    with pytest.raises(AppNotReady) as err:
        session.start()
    message = str(err.value)
    assert "did not show 'Launch the rockets' within 4 s" in message
    assert "Windows on the screen: 'screenagent demo" in message
    shot = Path(message.split("Screenshot: ")[1].split(".png")[0] + ".png")
    assert shot.is_file()
