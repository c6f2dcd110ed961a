"""Real OCR (RapidOCR) on a real X server: grounding on the demo app (whose widget boxes are
ground truth), on a real GTK dialog (zenity), and on an image file; `screenagent ground`."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DemoApp, cli, launch_demo, settle_screen
from PIL import Image

from screenagent.display import VirtualDisplay
from screenagent.grounding import AmbiguousTarget, Grounder, TargetNotFound
from screenagent.ocr import CachedOcr, RapidOcrEngine
from screenagent.screen import MssScreen

pytestmark = [pytest.mark.display, pytest.mark.ocr]
pytest.importorskip("rapidocr", reason="the [ocr] extra is not installed")


@pytest.fixture(scope="module")
def app(xdisplay: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    app = launch_demo(xdisplay, tmp_path_factory.mktemp("ocr") / "state.json")
    settle_screen(xdisplay)  # the first paints after "ready"
    yield app
    app.proc.terminate()
    app.proc.wait(timeout=5)


@pytest.fixture(scope="module")
def shot(app: DemoApp, xdisplay: VirtualDisplay) -> Image.Image:
    with MssScreen(display=xdisplay.display) as screen:
        return screen.capture().image


@pytest.fixture(scope="module")
def grounder() -> Grounder:
    return Grounder(CachedOcr(RapidOcrEngine()))


def inside(box: list[int], x: int, y: int) -> bool:
    bx, by, bw, bh = box
    return bx <= x < bx + bw and by <= y < by + bh


@pytest.mark.parametrize(
    ("target", "widget"),
    [
        ("Contact form", "title"), ("Name", "name_label"), ("Email", "email_label"),
        ("Subscribe to news", "subscribe"), ("Submit", "submit"), ("Clear", "clear"),
        ("Refresh", "refresh"), ("Files", "list_label"), ("Drag the square into the box", "drag_label"),
        ("Ready", "status"),
    ],
)  # fmt: skip
def test_every_labelled_widget_is_found_inside_its_box(
    app: DemoApp, shot: Image.Image, grounder: Grounder, target: str, widget: str
) -> None:
    found = grounder.locate(target, shot)
    assert inside(app.box(widget), found.x, found.y), (found, app.box(widget))
    assert found.grounded_by == "ocr" and found.score >= 0.9


def test_a_word_inside_a_longer_label(app: DemoApp, shot: Image.Image, grounder: Grounder) -> None:
    news = grounder.locate("news", shot)
    subscribe = grounder.locate("Subscribe to news", shot)
    assert inside(app.box("subscribe"), news.x, news.y)
    assert news.box.x1 > subscribe.box.x1 + 80  # the box of "news", not of the whole label
    square = grounder.locate("square", shot)
    assert inside(app.box("drag_label"), square.x, square.y) and square.text == "square"


def test_fuzzy_nth_and_relations(app: DemoApp, shot: Image.Image, grounder: Grounder) -> None:
    assert inside(app.box("submit"), *grounder.locate("Sumbit", shot).box.center)
    rows = app.state()["widgets"]["list_rows"]
    third = grounder.locate("Item #3", shot)
    assert inside(rows[2], third.x, third.y)
    below = grounder.locate("Item below Item 05", shot)
    assert inside(rows[5], below.x, below.y)
    label = grounder.locate("Files above Item 01", shot)
    assert inside(app.box("list_label"), label.x, label.y)


def test_ambiguous_and_missing_targets(shot: Image.Image, grounder: Grounder) -> None:
    with pytest.raises(AmbiguousTarget) as err:
        grounder.locate("Item", shot)
    assert "matches 14 places equally well: #1 'Item' at (" in str(err.value)
    with pytest.raises(TargetNotFound) as missing:
        grounder.locate("Preferences", shot)
    assert "No text matching 'Preferences' on the screen. Closest:" in str(missing.value)


def test_repeat_lookups_on_an_unchanged_screen_do_not_read_again(shot: Image.Image) -> None:
    engine = CachedOcr(RapidOcrEngine())
    g = Grounder(engine)
    g.locate("Submit", shot)
    for target in ("Clear", "Email", "news", "Item #4"):
        g.locate(target, shot.copy())
    assert engine.reads == 1


def test_image_target_with_scale_tolerance(
    app: DemoApp, shot: Image.Image, grounder: Grounder, tmp_path: Path
) -> None:
    x, y, w, h = app.box("token")
    shot.crop((x - 2, y - 2, x + w + 2, y + h + 2)).save(tmp_path / "token.png")
    found = Grounder(base_dir=tmp_path).locate("image:token.png", shot)
    assert (
        found.grounded_by == "image"
        and inside(app.box("token"), found.x, found.y)
        and found.score > 0.95
    )
    # the same icon drawn 25% larger (another DPI or theme) is still found
    big = Image.open(tmp_path / "token.png")
    big.resize((round(big.width * 1.25), round(big.height * 1.25))).save(tmp_path / "token-big.png")
    found = Grounder(base_dir=tmp_path).locate("image:token-big.png", shot)
    assert inside(app.box("token"), found.x, found.y)
    with pytest.raises(TargetNotFound, match="is not on the screen"):
        Image.new("RGB", (30, 30), "purple").save(tmp_path / "nothing.png")
        Grounder(base_dir=tmp_path).locate("image:nothing.png", shot.convert("RGB"))


def test_cli_ground_on_an_image_file(app: DemoApp, shot: Image.Image, tmp_path: Path) -> None:
    path = tmp_path / "shot.png"
    shot.save(path)
    proc = cli("ground", "Submit", "--image", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"x", "y", "box", "text", "score", "grounded_by"}
    assert data["text"] == "Submit" and data["grounded_by"] == "ocr"
    assert inside(app.box("submit"), data["x"], data["y"])
    proc = cli("ground", "Item", "--image", str(path))
    assert proc.returncode == 1 and "equally well" in proc.stderr
    proc = cli("ground", "Preferences", "--image", str(path))
    assert proc.returncode == 1 and "Closest:" in proc.stderr


def test_cli_ground_on_the_live_screen(app: DemoApp, xdisplay: VirtualDisplay) -> None:
    proc = cli("ground", "Clear", "--json", env=dict(xdisplay.env))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert inside(app.box("clear"), data["x"], data["y"])


@pytest.mark.skipif(shutil.which("zenity") is None, reason="zenity is not installed")
def test_a_real_gtk_error_dialog(xdisplay: VirtualDisplay, tmp_path: Path) -> None:
    """Read a zenity error dialog and press its OK button by grounding: zenity exits 0 only
    if the click landed on OK."""
    from screenagent.actions import Click
    from screenagent.pyautogui_executor import PyAutoGUIExecutor

    proc = subprocess.Popen(
        ["zenity", "--error", "--text=Disk full: 3 MB left on /home", "--title=Backup failed"],
        env=dict(xdisplay.env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        g = Grounder(CachedOcr(RapidOcrEngine()))
        with MssScreen(display=xdisplay.display) as screen:
            deadline = time.monotonic() + 20
            while True:  # GTK maps the window first and paints the buttons a moment later
                frame = screen.capture()
                if g.is_visible("Disk full", frame.image) and g.is_visible("OK", frame.image):
                    break
                assert time.monotonic() < deadline, "the zenity dialog never showed fully"
                time.sleep(0.2)
            text = " ".join(line.text for line in g.read(frame.image))
            assert "Disk full: 3 MB left on /home" in text
            ok = g.locate("OK", frame.image)
            PyAutoGUIExecutor(display=xdisplay.display).execute(Click(x=ok.x, y=ok.y), frame)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
