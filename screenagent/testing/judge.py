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

    def judge(self, statement: str, image: Image.Image) -> tuple[bool, str]:
        prompt = self.prompt(statement)
        hint = 'Answer only {"pass": true|false, "reason": "..."}.'

        def send(errors: tuple[str, ...]) -> str:
            extra = f"\n{feedback_text(errors, hint)}" if errors else ""
            return str(self.backend.complete(system=SYSTEM, prompt=prompt + extra, image=image).text)

        try:
            verdict = ask_structured(
                send, lambda raw: Verdict.model_validate(json_object(raw)),
                retries=self.retries, what="verdict",
            ).value  # fmt: skip
        except NoUsableAnswer as exc:
            return False, f"the model's answer was not a verdict: {exc.raw[:200]!r}"
        return verdict.passed, verdict.reason
