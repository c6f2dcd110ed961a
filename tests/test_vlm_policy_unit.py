"""The VLM policy inside the real loop, with a scripted backend (a real class implementing the
Backend protocol, answers from a list): several actions in one answer run in order, an invalid
answer is fed back in the one wording of `feedback_text`, and the prompt summarises the earlier
steps. UI-TARS answers follow the format in ByteDance's UI-TARS ``README_coordinates.md`` /
``prompt.py`` (``Thought: ...\\nAction: click(start_box='(x,y)')``), in the resized image's pixels.
"""

from __future__ import annotations

from PIL import Image

from screenagent.agent import iter_steps
from screenagent.backends import Completion
from screenagent.dialects import get_dialect
from screenagent.executor import DryRunExecutor
from screenagent.models import feedback_text
from screenagent.policies.vlm import VLMPolicy
from screenagent.safety import Limits, Safety
from screenagent.screen import ImageScreen


class ScriptedBackend:
    """Answers from a list; keeps every prompt it was sent."""

    name = "scripted"

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def complete(self, *, system: str | None, prompt: str, image: Image.Image) -> Completion:
        self.prompts.append(prompt)
        return Completion(text=self.answers.pop(0), prompt_tokens=10, completion_tokens=5)


def _run(answers: list[str], retries: int = 2) -> tuple[list, object, ScriptedBackend]:
    backend = ScriptedBackend(answers)
    dialect = get_dialect("ui-tars-1.5")
    prep = dialect.image_prep(None, None)
    policy = VLMPolicy(backend, dialect, prep)
    screen = ImageScreen([Image.new("RGB", (1000, 1000), (200, 200, 200))])
    gen = iter_steps("fill the form", screen=screen, policy=policy, executor=DryRunExecutor(),
                     safety=Safety(limits=Limits(max_steps=10, max_retries=retries)))  # fmt: skip
    records = []
    while True:
        try:
            records.append(next(gen))
        except StopIteration as stop:
            return records, stop.value, backend


def test_several_actions_in_one_answer_run_in_order_with_one_model_call() -> None:
    records, result, backend = _run([
        "Thought: name first\nAction: click(start_box='(100,200)')\n\ntype(content='Ada')",
        "Thought: all done\nAction: finished(content='filled')",
    ])  # fmt: skip
    assert [r.action["action"] for r in records[:2]] == ["click", "type"]
    assert records[1].thought == "(continued from the last answer)"
    assert len(backend.prompts) == 2, "the second action came from the first answer"
    assert result.status == "success" and result.answer == "filled"  # type: ignore[attr-defined]


def test_an_invalid_answer_is_fed_back_then_the_valid_one_runs() -> None:
    records, result, backend = _run([
        "I think I should click somewhere.",  # no Action: line
        "Thought: the button\nAction: click(start_box='(300,400)')",
        "Action: finished(content='ok')",
    ])  # fmt: skip
    first = records[0]
    assert [bool(a.errors) for a in first.attempts] == [True, False]
    error = first.attempts[0].errors[0]
    assert "Action:" in error
    assert feedback_text([error]) in backend.prompts[1]  # the one wording, with the error
    assert feedback_text([error]) not in backend.prompts[0]
    assert first.action["action"] == "click" and result.status == "success"  # type: ignore[attr-defined]


def test_no_valid_answer_within_the_retries_ends_the_run_invalid() -> None:
    records, result, backend = _run(["nonsense", "still nonsense"], retries=1)
    assert result.status == "invalid"  # type: ignore[attr-defined]
    assert len(records[0].attempts) == 2 and records[0].action is None
    assert len(backend.prompts) == 2


def test_the_prompt_summarises_the_earlier_steps() -> None:
    _, _, backend = _run([
        "Thought: open the name field\nAction: click(start_box='(100,200)')",
        "Thought: now the email\nAction: click(start_box='(100,300)')",
        "Thought: and type\nAction: type(content='x')",
        "Action: finished(content='ok')",
    ])  # fmt: skip
    last = backend.prompts[3]
    assert "Step 1: open the name field -> dry_run" in last
    assert "Step 2: now the email -> dry_run" in last
    assert "Step 3: and type -> dry_run" in last
    assert "Step 1" not in backend.prompts[0]
