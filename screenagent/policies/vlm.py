"""The VLM policy: a vision-language model decides the next action from the latest screenshot.

Each step sends the newest frame, the task and a text summary of the earlier steps (older
screenshots stay on disk, not in the prompt), in the family's own prompt format; the answer is
parsed by the family's dialect, and every action it holds is kept, in order. An answer with no
usable action raises InvalidOutput: the loop feeds the error back (bounded retries), and the
next prompt says what was wrong.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ..actions import Action
from ..backends import Backend
from ..dialects import Dialect, to_actions
from ..geometry import Frame
from .base import InvalidOutput, Proposal, StepContext

HISTORY_STEPS = 8
"""How many earlier steps are summarised in the prompt."""


def detect_family(model_name: str) -> str | None:
    """The family id a model's name suggests (None if it suggests none)."""
    name = model_name.lower().replace("_", "-")
    rules = [
        ("ui-tars-1.5", "ui-tars-1.5"), ("ui-tars-1-5", "ui-tars-1.5"), ("ui-tars", "ui-tars"),
        ("qwen3-vl", "qwen3-vl"), ("qwen2.5-vl", "qwen2.5-vl"), ("qwen2-5-vl", "qwen2.5-vl"),
        ("showui", "showui"), ("os-atlas", "os-atlas"), ("uground", "uground"),
    ]  # fmt: skip
    for needle, family in rules:
        if needle in name:
            return family
    return None


class VLMPolicy:
    """Asks a model for the next action.

    Args:
        backend: Where the model runs (transformers, an OpenAI-compatible server).
        dialect: The model family's prompt and output format.
    """

    def __init__(self, backend: Backend, dialect: Dialect) -> None:
        self.backend = backend
        self.dialect = dialect
        self.name = f"vlm:{dialect.id}"
        self._pending: deque[Action] = deque()

    def preflight(self, frame: Frame) -> None:
        return None

    def _history(self, ctx: StepContext) -> str:
        lines = []
        for record in list(ctx.history)[-HISTORY_STEPS:]:
            what = record.thought or (record.action or {}).get("action", record.status)
            lines.append(f"Step {record.index}: {what} -> {record.status}")
        return "\n".join(lines)

    def decide(self, ctx: StepContext) -> Proposal:
        if self._pending and not ctx.feedback:
            action = self._pending.popleft()
            return Proposal(
                raw=action.model_dump_json(),
                action=action,
                thought="(continued from the last answer)",
            )
        self._pending.clear()
        prompt = self.dialect.next_action_prompt(ctx.task, self._history(ctx))
        if ctx.feedback:
            prompt += (
                "\n\nYour previous answer could not be used: "
                + "; ".join(ctx.feedback)
                + ". Answer again."
            )
        completion = self.backend.complete(system=None, prompt=prompt, image=ctx.frame.image)
        model_size = completion.model_input_size or self.dialect.model_input_size(
            ctx.frame.width, ctx.frame.height
        )
        meta: dict[str, Any] = {
            "model": self.backend.name, "family": self.dialect.id, "model_input_size": list(model_size),
            "prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens,
            "generate_seconds": round(completion.seconds, 4),
        }  # fmt: skip
        try:
            answer = self.dialect.parse(completion.text, model_size)
            actions = to_actions(answer, image_width=ctx.frame.width, image_height=ctx.frame.height)
        except InvalidOutput as exc:
            raise InvalidOutput(str(exc), raw=completion.text) from None
        first, *rest = actions
        self._pending.extend(rest)
        return Proposal(raw=completion.text, action=first, thought=answer.thought, meta=meta)
