"""The VLM policy: a vision-language model decides the next action from the latest screenshot.

Each step sends the newest frame, the task and a text summary of the earlier steps (older
screenshots stay on disk, not in the prompt), in the family's own prompt format; the answer is
parsed by the family's dialect, and every action it holds is kept, in order. An answer with no
usable action raises InvalidOutput: the loop feeds the error back (bounded retries), and the
next prompt says what was wrong.

The image the model sees is prepared once, here: the family's resize (or canvas) is applied
before sending, except when a local processor does the very same resize itself and reports the
size it chose. Either way the parser gets the exact size the model's coordinates refer to.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ..actions import Action, Click
from ..backends import Backend, Completion
from ..dialects import Dialect, ImagePrep, Prompt, to_actions
from ..errors import InvalidOutput
from ..geometry import Box, Frame
from ..grounding import GroundedBy, Grounding
from ..models import ask_structured, feedback_text
from .base import Proposal, StepContext

HISTORY_STEPS = 8
"""How many earlier steps are summarised in the prompt."""

_FAMILY_NAMES = [
    ("holo3", "holo3"), ("holotron-3", "holo3"), ("mai-ui", "mai-ui"), ("ui-tars-2", "ui-tars-2"), ("uitars-2", "ui-tars-2"),
    ("qwen3.5", "qwen3.5"), ("qwen3-5", "qwen3.5"), ("qwen3.6", "qwen3.5"), ("qwen3-6", "qwen3.5"),
    ("ui-tars-1.5", "ui-tars-1.5"), ("ui-tars-1-5", "ui-tars-1.5"), ("ui-tars", "ui-tars"),
    ("qwen3-vl", "qwen3-vl"), ("qwen2.5-vl", "qwen2.5-vl"), ("qwen2-5-vl", "qwen2.5-vl"),
    ("showui", "showui"), ("os-atlas", "os-atlas"), ("uground", "uground"), ("seeclick", "seeclick"),
    ("aguvis", "aguvis"), ("opencua", "opencua"), ("gta1", "gta1"), ("holo1.5", "holo1.5"),
    ("holo1-5", "holo1.5"), ("holo2", "holo2"), ("holo1", "holo1"), ("ui-venus", "ui-venus"),
    ("infigui-g1", "infigui-g1"), ("phi-ground", "phi-ground"), ("cogagent", "cogagent"),
    ("gui-actor", "gui-actor"), ("claude", "anthropic"), ("computer-use-preview", "openai"),
]  # fmt: skip


def detect_family(model_name: str) -> str | None:
    """The family id a model's name suggests (None if it suggests none)."""
    name = model_name.lower().replace("_", "-")
    for needle, family in _FAMILY_NAMES:
        if needle in name:
            return family
    return None


@dataclass(frozen=True, kw_only=True)
class Asked:
    """One model call: the completion, and the size its coordinates refer to."""

    completion: Completion
    model_size: tuple[int, int]
    prompt: Prompt
    """What was sent with the image (kept in the step log)."""

    def meta(self, backend: Backend, dialect: Dialect) -> dict[str, Any]:
        c = self.completion
        return {
            "model": backend.name, "family": dialect.id, "model_input_size": list(self.model_size),
            "prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens,
            "generate_seconds": round(c.seconds, 4), "prompt": self.prompt.user,
        }  # fmt: skip


def ask(
    backend: Backend,
    dialect: Dialect,
    prep: ImagePrep | None,
    image: Image.Image,
    make_prompt: Any,
    feedback: str = "",
    context: str = "",
) -> Asked:
    """Prepare the image, build the prompt for its size, call the model.

    ``make_prompt(size) -> Prompt``; ``context`` (skills) and then ``feedback`` are appended to
    the user turn.
    """
    estimated = prep.model_size(*image.size) if prep is not None else image.size
    local = (
        prep is not None and prep.processor_resizes and getattr(backend, "resizes_images", False)
    )
    sent = image if prep is None or local else prep.prepare(image)
    base: Prompt = make_prompt(estimated)
    user = base.user + "".join(f"\n\n{part}" for part in (context, feedback) if part)
    prompt = Prompt(user=user, system=base.system)
    completion = backend.complete(system=prompt.system, prompt=prompt.user, image=sent)
    size = completion.model_input_size if local and completion.model_input_size else estimated
    return Asked(completion=completion, model_size=size, prompt=prompt)


class VLMPolicy:
    """Asks a model for the next action.

    Args:
        backend: Where the model runs (transformers, an OpenAI-compatible server).
        dialect: The model family's prompt and output format.
        prep: The image preparation in force (the family's, with any pixel-budget override).
        context: Text added to every prompt (skills).
    """

    def __init__(
        self,
        backend: Backend,
        dialect: Dialect,
        prep: ImagePrep | None = None,
        *,
        context: str = "",
    ) -> None:
        self.backend = backend
        self.context = context
        """Added to every prompt: the skills catalogue and the selected skills' bodies."""
        self.dialect = dialect
        self.prep = prep if prep is not None else dialect.resize
        self.name = f"vlm:{dialect.id}"
        self._pending: deque[Action] = deque()
        self.last_meta: dict[str, Any] = {}
        """What the last model call cost (kept also when its answer was unusable)."""

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
        feedback = feedback_text(ctx.feedback) if ctx.feedback else ""
        history = self._history(ctx)
        asked = ask(
            self.backend, self.dialect, self.prep, ctx.frame.image,
            lambda size: self.dialect.next_action_prompt(ctx.task, history, size), feedback, self.context,
        )  # fmt: skip
        text = asked.completion.text
        self.last_meta = asked.meta(self.backend, self.dialect)
        try:
            answer = self.dialect.parse(text, asked.model_size)
            actions = to_actions(answer, image_width=ctx.frame.width, image_height=ctx.frame.height)
        except InvalidOutput as exc:
            raise InvalidOutput(str(exc), raw=text, meta=self.last_meta) from None
        first, *rest = actions
        self._pending.extend(rest)
        if answer.notes:
            self.last_meta = {**self.last_meta, "notes": list(answer.notes)}
        return Proposal(raw=text, action=first, thought=answer.thought, meta=self.last_meta)


class ModelGrounder:
    """A grounding model as a grounder: a target in words -> a point on the image.

    Uses the family's grounding prompt; the first click-like action of the answer is the
    point. An unusable answer is asked again with the error (``retries`` times), then raised
    as InvalidOutput.
    """

    def __init__(
        self, backend: Backend, dialect: Dialect, prep: ImagePrep | None = None, *, retries: int = 1
    ) -> None:
        self.backend = backend
        self.dialect = dialect
        self.prep = prep if prep is not None else dialect.resize
        self.retries = retries
        self.name = f"vlm:{dialect.id}"
        self.last_meta: dict[str, Any] = {}

    def locate(self, target: str, image: Image.Image) -> Grounding:
        hint = "Answer again with the element's position."

        def send(errors: tuple[str, ...]) -> Asked:
            return ask(
                self.backend, self.dialect, self.prep, image,
                lambda size: self.dialect.grounding_prompt(target, size),
                feedback_text(errors, hint) if errors else "",
            )  # fmt: skip

        def validate(asked: Asked) -> Grounding:
            text = asked.completion.text
            self.last_meta = {**asked.meta(self.backend, self.dialect), "raw": text}
            answer = self.dialect.parse(text, asked.model_size)
            actions = to_actions(answer, image_width=image.width, image_height=image.height)
            for action in actions:
                x, y = getattr(action, "x", None), getattr(action, "y", None)
                if isinstance(x, int) and isinstance(y, int):
                    return Grounding(
                        target=target, x=x, y=y, box=Box(x1=x, y1=y, x2=x + 1, y2=y + 1),
                        text=target, score=1.0 if isinstance(action, Click) else 0.9,
                        grounded_by=GroundedBy.MODEL, model=self.name, notes=answer.notes,
                    )  # fmt: skip
            raise InvalidOutput("the answer names no point", raw=text)

        return ask_structured(
            send, validate, retries=self.retries, raw=lambda a: a.completion.text, what="point"
        ).value
