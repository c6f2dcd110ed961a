"""The OCR engine as screenagent configures it for screens (issue 17), on real frames: a
sequence recorded live from the Tk demo app, mousepad (GTK) and xterm on a private desktop
(typing, a dialog opening and closing, a menu, scrolling, Save As, a dense terminal).

- Equality: each frame read by the run's engine, whose line recognitions are cached by their
  pixels across the sequence, gives the same lines and boxes as a fresh engine reading that
  frame alone; also a frame of another size after them.
- Light on dark: the dark title bar of a GTK window and its "Warning: you are using the root
  account" bar read right (the text-angle classifier used to flip them: "Und - I ttad"); a
  Chromium page's banner, primary button, selected row and dark panel; a selected line of text
  in a Qt editor (featherpad).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from apps.corpus import recorded_frames
from PIL import Image

from screenagent.ocr import OcrLine, RapidOcrEngine

pytestmark = [pytest.mark.display, pytest.mark.ocr, pytest.mark.slow]
pytest.importorskip("rapidocr", reason="the [ocr] extra is not installed")

def _key(line: OcrLine) -> tuple[str, int, int, int, int]:
    return line.text, line.box.x1, line.box.y1, line.box.x2, line.box.y2


@pytest.fixture(scope="module")
def sequences(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Image.Image]]:
    return recorded_frames(tmp_path_factory.mktemp("frames"))


def test_a_run_reads_every_frame_as_a_fresh_engine_does(sequences: dict[str, list[Image.Image]]) -> None:
    """The run's reader (line crops whose pixels were seen are not recognised again) against an
    engine with no cache, which reads every frame from scratch."""
    run = RapidOcrEngine()  # one engine for the whole run, as a Session keeps it
    full = RapidOcrEngine(rec_cache=False)
    frames = [(name, i, image) for name, seq in sequences.items() for i, image in enumerate(seq)]
    # a frame of another size after them (a region or monitor change): no stale boxes
    name, _, last = frames[-1]
    frames.append((name, -1, last.crop((0, 0, 1024, 600))))
    for name, i, image in frames:
        got = sorted(map(_key, run.read(image)))
        fresh = sorted(map(_key, full.read(image)))
        assert got == fresh, (name, i, set(got) ^ set(fresh))
    assert run.rec_hits > 0  # lines that did not change were not recognised again


def test_light_text_on_dark_bars_of_a_gtk_window(sequences: dict[str, list[Image.Image]]) -> None:
    if "mousepad" not in sequences:
        pytest.skip("mousepad is not installed (.ci/setup.sh installs it)")
    texts = [line.text for line in RapidOcrEngine().read(sequences["mousepad"][1])]
    assert "*Untitled 1 - Mousepad" in texts  # white on the dark title bar
    if os.geteuid() == 0:  # mousepad warns root in a bar of white text on red
        assert "Warning: you are using the root account. You may harm your system." in texts


LIGHT_ON_DARK = """<!doctype html><html><body style="font: 16px sans-serif; margin: 30px">
<h2>Checkout</h2>
<div style="background:#b3261e; color:#fff; padding:10px 14px; width:520px">Payment failed: the card was declined</div>
<p><button style="background:#0b57d0; color:#fff; border:0; border-radius:18px; padding:9px 22px; font-size:15px">Pay now</button>
<button style="background:#fff; color:#0b57d0; border:1px solid #747775; border-radius:18px; padding:9px 22px; font-size:15px">Cancel order</button></p>
<div style="width:320px; border:1px solid #ccc">
<div style="padding:6px 10px">Standard shipping</div>
<div style="padding:6px 10px; background:#1a73e8; color:#fff">Express shipping</div>
<div style="padding:6px 10px">Pick up in store</div></div>
<div style="background:#202124; color:#e8eaed; padding:10px 14px; width:520px; margin-top:16px">Dark mode: saved cards are shown here</div>
</body></html>"""


def test_light_text_on_coloured_backgrounds_of_a_chromium_page(tmp_path: Path) -> None:
    """A web page as Chromium draws it: a white-on-red error banner, a white-on-blue primary
    button, a selected (white on blue) list row and a dark-mode panel, read by OCR alone."""
    import shutil

    from apps.corpus import chromium_argv

    from screenagent import Session

    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        pytest.skip("chromium is not installed (.ci/setup.sh installs it)")
    page = tmp_path / "checkout.html"
    page.write_text(LIGHT_ON_DARK)
    with Session(virtual_display="1280x800", launch=chromium_argv(tmp_path / "profile", page.as_uri()),
                 ready="Checkout", app_timeout=60, failsafe=False, tree=False) as s:  # fmt: skip
        image = s.wait_settled(5.0, quiet=0.5).image
    texts = [line.text for line in RapidOcrEngine().read(image)]
    for want in ("Payment failed: the card was declined", "Pay now", "Express shipping",
                 "Dark mode: saved cards are shown here"):  # fmt: skip
        assert want in texts, (want, texts)


def test_light_text_on_dark_in_a_qt_editor(tmp_path: Path) -> None:
    """featherpad (Qt): a line of text selected (white on blue) reads as typed, next to the
    plain line above it."""
    import shutil

    import numpy as np
    from apps.corpus import private_home

    from screenagent import Session

    if shutil.which("featherpad") is None:
        pytest.skip("featherpad is not installed (.ci/setup.sh installs it)")
    with Session(virtual_display="1280x800", launch=["featherpad"], env=private_home(tmp_path),
                 failsafe=False, verify=False, tree=False) as s:  # fmt: skip
        s.wait_for("Search")
        s.type("Quarterly report: 42 invoices overdue")
        s.press("enter")
        s.type("Send reminders by Friday")
        s.press("shift+home")
        image = s.wait_settled(2.0, quiet=0.5).image
    lines = RapidOcrEngine().read(image)
    plain = next(line for line in lines if line.text == "Quarterly report: 42 invoices overdue")
    selected = sorted((line for line in lines if line.box.y1 > plain.box.y2 - 4 and line.box.y1 < plain.box.y2 + 12),
                      key=lambda line: line.box.x1)  # fmt: skip
    assert " ".join(line.text for line in selected) == "Send reminders by Friday", [line.text for line in lines]
    # the selected line really is light text on a dark background (Qt's highlight colour)
    b = selected[0].box.union(selected[-1].box)
    gray = np.asarray(image.convert("L"))[b.y1 : b.y2, b.x1 : b.x2]
    assert np.median(gray) < 160, np.median(gray)
