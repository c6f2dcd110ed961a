"""Pure unit tests of the composed mode's glue and the model grounder, with scripted backends
(the real models behind them are exercised in test_composed_e2e.py and test_vlm_e2e.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from PIL import Image

from screenagent.backends import Completion
from screenagent.dialects import get_dialect
from screenagent.errors import InvalidOutput
from screenagent.geometry import Box, Frame, Rect
from screenagent.grounding import Grounding, TargetNotFound
from screenagent.policies.base import StepContext
from screenagent.policies.planner import PlannerPolicy
from screenagent.policies.vlm import ModelGrounder


@dataclass
class Scripted:
    """A backend that answers from a list and records what it was asked."""

    answers: list[str]
    name: str = "scripted"
    asked: list[tuple[str | None, str, tuple[int, int]]] = field(default_factory=list)

    def complete(self, *, system: str | None, prompt: str, image: Image.Image) -> Completion:
        self.asked.append((system, prompt, image.size))
        return Completion(text=self.answers.pop(0))


class Boxes:
    """A grounder that knows where a few words are."""

    name = "boxes"

    def __init__(self, places: dict[str, tuple[int, int]]) -> None:
        self.places = places

    def locate(self, target: str, image: Image.Image) -> Grounding:
        if target not in self.places:
            raise TargetNotFound(f"{target!r} is not on the screen", target=target)
        x, y = self.places[target]
        return Grounding(target=target, x=x, y=y, box=Box(x1=x - 5, y1=y - 5, x2=x + 5, y2=y + 5),
                         text=target, score=1.0, grounded_by="boxes")  # fmt: skip


def ctx(feedback: tuple[str, ...] = ()) -> StepContext:
    frame = Frame(
        image=Image.new("RGB", (640, 400)), region=Rect(left=0, top=0, width=640, height=400)
    )
    return StepContext(task="log in", frame=frame, step=1, feedback=feedback)


def test_planner_names_targets_in_words_and_the_grounder_places_them() -> None:
    backend = Scripted(
        [
            'Sure! ```json\n{"thought": "fill the name", "action": "type", "text": "ada", "target": "Name"}\n```'
        ]
    )
    policy = PlannerPolicy(backend, Boxes({"Name": (100, 50)}))
    first = policy.decide(ctx())
    assert (
        first.action == {"action": "click", "x": 100, "y": 50}
        and first.meta["grounded_by"] == "boxes"
    )
    assert policy.decide(ctx()).action == {"action": "type", "text": "ada"}  # the queued typing
    system, prompt, _ = backend.asked[0]
    assert "Never give coordinates" in (system or "") and prompt.startswith("Task: log in")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("I would click the button", "one JSON object"),
        ('{"action": "click", "target": "Nope"}', "'Nope' was not found"),
        ('{"action": "click"}', "click needs a target"),
        ('{"action": "click", "target": "OK", "x": 5}', r"^x: unknown field \(not part of this action\)$"),
        ('{"action": "fly"}', r"^action: Input should be 'click', 'double_click'"),
    ],
)
def test_planner_errors_go_back_to_the_model(answer: str, message: str) -> None:
    policy = PlannerPolicy(Scripted([answer]), Boxes({"OK": (1, 1)}))
    with pytest.raises(InvalidOutput, match=message) as err:
        policy.decide(ctx())
    assert err.value.raw == answer


def test_model_grounder_retries_with_feedback_then_maps_the_point() -> None:
    backend = Scripted(["I cannot see it", "Action: click(start_box='(500,500)')"])
    grounder = ModelGrounder(backend, get_dialect("ui-tars"), retries=1)
    found = grounder.locate("the OK button", Image.new("RGB", (640, 400)))
    assert (found.x, found.y, found.grounded_by, found.model) == (320, 200, "model", "vlm:ui-tars")
    assert "could not be used" in backend.asked[1][1]  # the error went back to the model
    with pytest.raises(InvalidOutput, match="no 'Action:'"):
        ModelGrounder(Scripted(["no", "still no"]), get_dialect("ui-tars"), retries=1).locate(
            "OK", Image.new("RGB", (640, 400))
        )


def test_images_are_prepared_for_the_family_before_sending() -> None:
    backend = Scripted(["<point>500, 500</point>"])  # an HTTP-like backend: no processor of its own
    found = ModelGrounder(backend, get_dialect("phi-ground")).locate(
        "OK", Image.new("RGB", (1920, 1080))
    )
    assert backend.asked[0][2] == (1008, 672)  # sent on Phi-Ground's canvas
    assert (found.x, found.y) == (960, 640)
    backend = Scripted(["(10,10)"])
    ModelGrounder(backend, get_dialect("gta1")).locate("OK", Image.new("RGB", (1920, 1080)))
    assert backend.asked[0][2] == (1932, 1092)  # smart-resized client-side
