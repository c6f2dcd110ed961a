"""The zoom-in pass (issue 20, item 3), pure parts: the window's space both ways, the grounder and
the policy asking again on the window, both answers in the log and the report.

The backend here is a real `Backend` that looks at the pixels it is sent: it finds the red mark
and answers its centre in UI-TARS-1.5's format (``Action: click(start_box='(x,y)')`` in the
resized image's pixels, ByteDance UI-TARS ``README_coordinates.md``), off by a fixed number of
its own pixels, like a model whose error is a fixed part of its input. The end-to-end test with
a tiny transformers model is in test_vlm_e2e.py.
"""

from __future__ import annotations

import argparse
import math

import pytest
from PIL import Image, ImageDraw

from screenagent.agent import iter_steps
from screenagent.backends import Completion
from screenagent.dialects import get_dialect
from screenagent.errors import ConfigError
from screenagent.executor import DryRunExecutor
from screenagent.geometry import Box, ZoomWindow
from screenagent.policies.vlm import ModelGrounder, VLMPolicy
from screenagent.report.images import annotate, marks
from screenagent.report.views import zoom_words
from screenagent.safety import Limits, Safety
from screenagent.screen import ImageScreen

MARK = (230, 20, 20)
OFF = (9, -7)
"""How far the backend misses, in pixels of the image it is sent."""


def screen_with_mark(x: int, y: int, size: tuple[int, int] = (1920, 1080)) -> Image.Image:
    img = Image.new("RGB", size, (235, 235, 235))
    ImageDraw.Draw(img).rectangle([x - 3, y - 3, x + 3, y + 3], fill=MARK)
    return img


class MarkFinder:
    """Answers where the red mark is in the image it gets, missing by OFF of its own pixels;
    ``answers`` (if given) replace the answer for the n-th call."""

    name = "mark-finder"

    def __init__(self, answers: dict[int, str] | None = None) -> None:
        self.sizes: list[tuple[int, int]] = []
        self.answers = answers or {}

    def complete(self, *, system: str | None, prompt: str, image: Image.Image) -> Completion:
        self.sizes.append(image.size)
        if len(self.sizes) - 1 in self.answers:
            return Completion(text=self.answers[len(self.sizes) - 1], prompt_tokens=1, completion_tokens=1)
        rgb = image.convert("RGB")
        px = rgb.load()
        hits = [(x, y) for y in range(rgb.height) for x in range(0, rgb.width)
                if (p := px[x, y])[0] > 180 and p[1] < 90 and p[2] < 90]  # type: ignore[index]  # fmt: skip
        cx = sum(h[0] for h in hits) / len(hits)
        cy = sum(h[1] for h in hits) / len(hits)
        x = min(rgb.width - 1, max(0, round(cx) + OFF[0]))
        y = min(rgb.height - 1, max(0, round(cy) + OFF[1]))
        return Completion(text=f"Thought: the mark\nAction: click(start_box='({x},{y})')",
                          prompt_tokens=1, completion_tokens=1)  # fmt: skip


# --- the space -------------------------------------------------------------------------------


def test_window_is_centred_on_the_first_answer_and_moved_inside_the_frame() -> None:
    w = ZoomWindow.around(960, 540, frame_size=(1920, 1080), factor=2)
    assert w.box == Box(x1=480, y1=270, x2=1440, y2=810) and w.size == (1920, 1080)
    assert w.magnification == 2
    corner = ZoomWindow.around(1900, 20, frame_size=(1920, 1080), factor=2, size=(1092, 616))
    assert corner.box == Box(x1=960, y1=0, x2=1920, y2=540)  # moved, never shrunk
    assert corner.to_frame(0, 0) == (960, 0) and corner.to_frame(1091, 615) == (1919, 539)
    third = ZoomWindow.around(10, 1070, frame_size=(1280, 800), factor=3)
    assert third.box == Box(x1=0, y1=533, x2=427, y2=800)
    with pytest.raises(ValueError, match="above 1"):
        ZoomWindow.around(1, 1, frame_size=(100, 100), factor=1)


@pytest.mark.parametrize("size", [(1920, 1080), (1092, 616), (640, 360), (333, 187)])
def test_to_frame_and_from_frame_are_inverse_both_ways(size: tuple[int, int]) -> None:
    w = ZoomWindow.around(700, 400, frame_size=(1920, 1080), factor=2, size=size)
    # frame -> crop -> frame: exact when the crop is at least as fine as the frame, else the
    # frame pixel comes back within one crop pixel's width
    tol = max(0, math.ceil(1 / w.magnification) - 1)
    for fx in range(w.box.x1, w.box.x2, 37):
        for fy in range(w.box.y1, w.box.y2, 29):
            bx, by = w.to_frame(*w.from_frame(fx, fy))
            assert abs(bx - fx) <= tol and abs(by - fy) <= tol, (fx, fy, bx, by)
    # crop -> frame -> crop: within one frame pixel's worth of crop pixels
    tol_c = math.ceil(w.magnification)
    for cx in range(0, size[0], 41):
        for cy in range(0, size[1], 23):
            kx, ky = w.from_frame(*w.to_frame(cx, cy))
            assert abs(kx - cx) <= tol_c and abs(ky - cy) <= tol_c, (cx, cy, kx, ky)
    with pytest.raises(ValueError, match="outside the zoom window"):
        w.from_frame(w.box.x2, w.box.y1)
    with pytest.raises(ValueError, match="outside the"):
        w.to_frame(size[0], 0)


def test_crop_sends_the_window_at_its_size() -> None:
    img = screen_with_mark(1000, 600)
    w = ZoomWindow.around(1000, 600, frame_size=img.size, factor=2, size=(1092, 616))
    crop = w.crop(img)
    assert crop.size == (1092, 616)
    cx, cy = w.from_frame(1000, 600)
    assert crop.getpixel((cx, cy))[0] > 180  # the mark is where from_frame says


# --- the grounder ----------------------------------------------------------------------------


def _grounder(backend: MarkFinder, zoom: float | None) -> ModelGrounder:
    dialect = get_dialect("ui-tars-1.5")
    return ModelGrounder(backend, dialect, dialect.image_prep(None, None), zoom=zoom)


def test_zoom_divides_a_fixed_model_error_by_the_magnification() -> None:
    img = screen_with_mark(1500, 300, size=(2560, 1440))
    one = _grounder(MarkFinder(), None).locate("the red mark", img)
    backend = MarkFinder()
    two = _grounder(backend, 2).locate("the red mark", img)
    err1 = math.dist((one.x, one.y), (1500, 300))
    err2 = math.dist((two.x, two.y), (1500, 300))
    assert err1 > 10 and err2 < err1 / 1.6, (one, two)
    assert two.zoom is not None and two.zoom.first == (one.x, one.y) and two.zoom.second == (two.x, two.y)
    assert two.zoom.window.contains_point(1500, 300) and two.zoom.magnification == pytest.approx(2, rel=0.02)
    assert backend.sizes[0] == backend.sizes[1]  # the window goes at the whole frame's model size
    assert two.to_json()["zoom"]["second"] == [two.x, two.y]  # type: ignore[index]


def test_an_unusable_second_answer_keeps_the_first_with_a_note() -> None:
    img = screen_with_mark(400, 500)
    g = _grounder(MarkFinder(answers={1: "I cannot see it"}), 2).locate("the red mark", img)
    assert g.zoom is not None and g.zoom.second is None and "unusable" in g.zoom.note
    assert (g.x, g.y) == g.zoom.first
    off = _grounder(MarkFinder(answers={1: "Action: click(start_box='(5000,5000)')"}), 2).locate("mark", img)
    assert off.zoom is not None and off.zoom.second is None and "outside" in off.zoom.note


def test_cache_keys_differ_with_and_without_zoom() -> None:
    assert _grounder(MarkFinder(), None).name == "vlm:ui-tars-1.5"
    assert _grounder(MarkFinder(), 2).name == "vlm:ui-tars-1.5+zoom2"


# --- the policy, the log and the report -------------------------------------------------------


def _policy_run(backend: MarkFinder, img: Image.Image) -> list:
    dialect = get_dialect("ui-tars-1.5")
    policy = VLMPolicy(backend, dialect, dialect.image_prep(None, None), zoom=2)
    gen = iter_steps("click the mark", screen=ImageScreen([img]), policy=policy, executor=DryRunExecutor(),
                     safety=Safety(limits=Limits(max_steps=1, max_retries=0)))  # fmt: skip
    records = []
    while True:
        try:
            records.append(next(gen))
        except StopIteration:
            return records


def test_policy_refines_a_click_and_logs_both_answers() -> None:
    img = screen_with_mark(1700, 900)
    records = _policy_run(MarkFinder(), img)
    step = records[0]
    zoom = step.attempts[-1].meta["zoom"]
    assert [step.action["x"], step.action["y"]] == zoom["second"]
    assert math.dist(zoom["second"], (1700, 900)) < math.dist(zoom["first"], (1700, 900)) / 1.6
    assert "click(start_box=" in zoom["raw"]
    assert "first answer" in zoom_words(zoom) and "→" in zoom_words(zoom)
    # the report draws the window (amber dashes) and the first answer beside the final point
    drawn = annotate(img, step)
    x1, y1, _, _ = zoom["window"]
    amber = [drawn.getpixel((x, y1)) for x in range(x1, x1 + 8)]
    assert all(p[0] > 200 and 120 < p[1] < 200 and p[2] < 60 for p in amber), amber
    assert tuple(zoom["first"]) in marks(step)


def test_policy_keeps_the_first_point_when_the_window_answer_is_another_action() -> None:
    img = screen_with_mark(600, 300)
    records = _policy_run(MarkFinder(answers={1: "Action: scroll(start_box='(10,10)', direction='down')"}), img)
    zoom = records[0].attempts[-1].meta["zoom"]
    assert zoom["second"] is None and "scroll, not click" in zoom["note"]
    assert [records[0].action["x"], records[0].action["y"]] == zoom["first"]


# --- options ---------------------------------------------------------------------------------


def test_zoom_options() -> None:
    from screenagent.cli.models import zoom_factor
    from screenagent.models import load_model

    assert zoom_factor("3") == 3 and zoom_factor("off") == 0
    for bad in ("1", "0.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="above 1"):
            zoom_factor(bad)
    with pytest.raises(ConfigError, match="above 1"):
        load_model("openai:ui-tars-1.5-7b", base_url="http://127.0.0.1:9/v1", zoom=0.5)
    with pytest.raises(ConfigError, match="needs the model's family"):
        load_model("openai:mystery", base_url="http://127.0.0.1:9/v1", zoom=2, family_required=False)
    m = load_model("openai:ui-tars-1.5-7b", base_url="http://127.0.0.1:9/v1", zoom=2)
    assert m.zoom == 2 and m.grounder().zoom == 2 and m.policy().zoom == 2
    assert load_model("openai:ui-tars-1.5-7b", base_url="http://127.0.0.1:9/v1").zoom is None
    assert load_model("openai:ui-tars-1.5-7b", base_url="http://127.0.0.1:9/v1", zoom=0).zoom is None
