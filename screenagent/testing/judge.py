"""``expect:`` statements judged by a vision-language model.

The model sees the screenshot and answers one JSON object ``{"pass": true|false, "reason":
"..."}``, validated with pydantic; an unusable answer is asked again with the error (bounded),
then reported as a failed check with the model's raw text.
"""

from __future__ import annotations

from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..policies.base import InvalidOutput
from ..policies.planner import json_object

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
        feedback = ""
        raw = ""
        for _ in range(self.retries + 1):
            raw = self.backend.complete(system=SYSTEM, prompt=prompt + feedback, image=image).text
            try:
                verdict = Verdict.model_validate(json_object(raw))
            except (InvalidOutput, ValidationError) as exc:
                feedback = (
                    f"\nYour previous answer could not be used ({str(exc).splitlines()[0]}). "
                    'Answer only {"pass": true|false, "reason": "..."}.'
                )
                continue
            return verdict.passed, verdict.reason
        return False, f"the model's answer was not a verdict: {raw[:200]!r}"
