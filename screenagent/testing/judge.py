"""``expect:`` statements judged by a vision-language model.

The model sees the screenshot and answers one JSON object ``{"pass": true|false, "reason":
"..."}``, validated with pydantic; an unusable answer is asked again with the error (bounded),
then reported as a failed check with the model's raw text.
"""

from __future__ import annotations

from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from ..models import NoUsableAnswer, ask_structured, feedback_text, json_object

SYSTEM = (
    "You check statements about a computer screen for a GUI test. Look at the screenshot and "
    'answer with one JSON object and nothing else: {"pass": true or false, "reason": "what on '
    'the screen shows it, in one sentence"}.'
)


TASK_SYSTEM = (
    "You check the work of an agent that operates a computer. It says it has finished the task "
    "below. Look at the final screenshot and decide whether it shows the task done. Answer with "
    'one JSON object and nothing else: {"pass": true or false, "reason": "what on the screen '
    'shows it, in one sentence"}. Answer false when the screen shows an error, or does not show '
    "the result the task asks for."
)


def task_prompt(task: str, answer: str | None = None) -> str:
    """The user turn of the final check of a model's run (the system turn is TASK_SYSTEM)."""
    said = f"The agent's answer: {answer}\n" if answer else ""
    return f"Task: {task}\n{said}Does the screenshot show the task done?"


class Verdict(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    passed: bool = Field(alias="pass")
    reason: str = ""


class VLMJudge:
    def __init__(self, backend: Any, *, retries: int = 1) -> None:
        self.backend = backend
        self.retries = retries

    @staticmethod
    def prompt(statement: str) -> str:
        return f"Statement: {statement}\nIs this statement true of the screenshot?"

    def _verdict(self, system: str, prompt: str, image: Image.Image) -> Verdict | str:
        """The model's validated verdict, or why it gave none (after its retries)."""
        hint = 'Answer only {"pass": true|false, "reason": "..."}.'

        def send(errors: tuple[str, ...]) -> str:
            extra = f"\n{feedback_text(errors, hint)}" if errors else ""
            return str(self.backend.complete(system=system, prompt=prompt + extra, image=image).text)

        try:
            return ask_structured(
                send, lambda raw: Verdict.model_validate(json_object(raw)),
                retries=self.retries, what="verdict",
            ).value  # fmt: skip
        except NoUsableAnswer as exc:
            return f"the model's answer was not a verdict: {exc.raw[:200]!r}"

    def judge(self, statement: str, image: Image.Image) -> tuple[bool, str]:
        """Whether ``statement`` is true of the screenshot, and why (an unusable answer: False)."""
        verdict = self._verdict(SYSTEM, self.prompt(statement), image)
        if isinstance(verdict, str):
            return False, verdict
        return verdict.passed, verdict.reason

    def task_done(self, task: str, answer: str | None, image: Image.Image) -> tuple[bool | None, str]:
        """The final check of a model's run: does the screenshot show ``task`` done? None: the
        model gave no usable verdict (not checkable; never taken for a yes)."""
        verdict = self._verdict(TASK_SYSTEM, task_prompt(task, answer), image)
        if isinstance(verdict, str):
            return None, verdict
        return verdict.passed, verdict.reason
