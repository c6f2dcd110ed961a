"""The OCR engine as screenagent configures it for screens (issue 17), on real frames: a
sequence recorded live from the Tk demo app and from mousepad (GTK) on a private desktop
(typing, a dialog opening and closing, a menu, scrolling, Save As).

- Equality: each frame read by the run's engine, whose line recognitions are cached by their
  pixels across the sequence, gives the same lines and boxes as a fresh engine with no cache
  reading that frame alone.
- Light on dark: the dark title bar of a GTK window and its "Warning: you are using the root
  account" bar read right (the text-angle classifier used to flip them: "Und - I ttad").
"""

from __future__ import annotations

import os

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


def test_cached_recognition_reads_every_frame_as_a_fresh_full_pass(sequences: dict[str, list[Image.Image]]) -> None:
    run = RapidOcrEngine()  # one engine for the whole run, as a Session keeps it
    full = RapidOcrEngine(rec_cache=False)  # every frame read from scratch
    for name, frames in sequences.items():
        for i, image in enumerate(frames):
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
