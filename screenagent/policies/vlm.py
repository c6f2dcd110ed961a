"""The VLM policy: a vision-language model decides the next action from the latest screenshot.

Each step sends the newest frame, the task and a text summary of the earlier steps (older
screenshots stay on disk, not in the prompt), in the family's own prompt format; the answer is
parsed by the family's dialect, and every action it holds is kept, in order. An answer with no
usable action raises InvalidOutput: the loop feeds the error back (bounded retries), and the
next prompt says what was wrong.

The image the model sees is prepared once, here: the family's resize (or canvas) is applied
before sending, except when a local processor does the very same resize itself and reports the
size it chose. Either way the parser gets the exact size the model's coordinates refer to.

Zoom-in (``zoom``): after the first answer, the same question is asked again on a window of
``1/factor`` of the frame around its point, sent at the model input size of the whole frame
(so the model sees it magnified), and the second answer's point is mapped back through
`geometry.ZoomWindow`. Both answers go into the step log.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ..actions import Action, Click, Move
from ..backends import Backend, Completion
from ..dialects import Dialect, ImagePrep, Prompt, to_actions
from ..errors import InvalidOutput
from ..geometry import Box, Frame, ZoomWindow
from ..grounding import GroundedBy, Grounding, ZoomPass
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
    ("gui-actor", "gui-actor"), ("glm-4.1v", "glm-v"), ("glm-4.5v", "glm-v"), ("glm-4.6v", "glm-v"),
    ("glm-5v", "glm-v"), ("glm-v", "glm-v"), ("gemini", "gemini"), ("claude", "anthropic"),
    ("computer-use-preview", "openai"),
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


def zoom_in(
    send: Any, dialect: Dialect, prep: ImagePrep | None, image: Image.Image,
    first: tuple[int, int], factor: float, kind: str | None = None,
) -> tuple[ZoomPass, str]:  # fmt: skip
    """The zoom-in pass: ask again on a window of ``1/factor`` of the frame around ``first``,
    sent at the model input size of the whole frame, and map the answer's point back
    (`geometry.ZoomWindow`). ``send(crop) -> Asked`` asks the same question on the crop;
    ``kind``: the second answer must be this action (a click stays a click). An unusable
    second answer keeps the first, with a note; never raises for it. Returns the pass and
    the second raw answer."""
    size = prep.model_size(*image.size) if prep is not None else image.size
    window = ZoomWindow.around(*first, frame_size=image.size, factor=factor, size=size)
    text = ""

    def kept(why: str) -> tuple[ZoomPass, str]:
        note = f"zoom: {why}; the first answer stands"
        return ZoomPass(first=first, window=window.box, magnification=window.magnification,
                        second=None, note=note), text  # fmt: skip

    try:
        asked = send(window.crop(image))
        text = asked.completion.text
        actions = to_actions(dialect.parse(text, asked.model_size),
                             image_width=window.size[0], image_height=window.size[1])  # fmt: skip
    except InvalidOutput as exc:
        return kept(f"the answer on the window was unusable ({exc})")
    for action in actions:
        x, y = getattr(action, "x", None), getattr(action, "y", None)
        if isinstance(x, int) and isinstance(y, int):
            if kind is not None and action.action != kind:
                return kept(f"on the window the model answered {action.action}, not {kind}")
            second = window.to_frame(x, y)
            return ZoomPass(first=first, window=window.box, magnification=window.magnification,
                            second=second), text  # fmt: skip
    return kept("the answer on the window names no point")


class VLMPolicy:
    """Asks a model for the next action.

    Args:
        backend: Where the model runs (transformers, an OpenAI-compatible server).
        dialect: The model family's prompt and output format.
        prep: The image preparation in force (the family's, with any pixel-budget override).
        context: Text added to every prompt (skills).
        zoom: Refine each click's point with a zoom-in pass at this factor (None: off).
    """

    def __init__(
        self,
        backend: Backend,
        dialect: Dialect,
        prep: ImagePrep | None = None,
        *,
        context: str = "",
        zoom: float | None = None,
    ) -> None:
        self.backend = backend
        self.zoom = zoom
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

        def send(image: Image.Image) -> Asked:
            return ask(
                self.backend, self.dialect, self.prep, image,
                lambda size: self.dialect.next_action_prompt(ctx.task, history, size), feedback, self.context,
            )  # fmt: skip

        asked = send(ctx.frame.image)
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
        if self.zoom and isinstance(first, (Click, Move)):
            zp, raw2 = zoom_in(send, self.dialect, self.prep, ctx.frame.image, (first.x, first.y),
                               self.zoom, kind=first.action)  # fmt: skip
            if zp.second is not None:
                first = first.model_copy(update={"x": zp.second[0], "y": zp.second[1]})
            self.last_meta = {**self.last_meta, "zoom": {**zp.to_json(), "raw": raw2}}
        return Proposal(raw=text, action=first, thought=answer.thought, meta=self.last_meta)


class ModelGrounder:
    """A grounding model as a grounder: a target in words -> a point on the image.

    Uses the family's grounding prompt; the first click-like action of the answer is the
    point. An unusable answer is asked again with the error (``retries`` times), then raised
    as InvalidOutput.
    """

    def __init__(
        self, backend: Backend, dialect: Dialect, prep: ImagePrep | None = None, *, retries: int = 1,
        zoom: float | None = None,
    ) -> None:  # fmt: skip
        self.backend = backend
        self.dialect = dialect
        self.prep = prep if prep is not None else dialect.resize
        self.retries = retries
        self.zoom = zoom
        self.name = f"vlm:{dialect.id}" + (f"+zoom{zoom:g}" if zoom else "")
        self.last_meta: dict[str, Any] = {}

    def locate(self, target: str, image: Image.Image) -> Grounding:
        """The model's point for ``target``; with ``zoom``, refined by a second look at a
        window around it (`zoom_in`): both answers are kept in ``Grounding.zoom``."""
        first = self._locate_once(target, image)
        if not self.zoom:
            return first
        meta = self.last_meta

        def send(crop: Image.Image) -> Asked:
            return ask(self.backend, self.dialect, self.prep, crop,
                       lambda size: self.dialect.grounding_prompt(target, size))  # fmt: skip

        zp, raw2 = zoom_in(send, self.dialect, self.prep, image, (first.x, first.y), self.zoom)
        self.last_meta = {**meta, "zoom": {**zp.to_json(), "raw": raw2}}
        if zp.second is None:
            return dataclasses.replace(first, zoom=zp)
        x, y = zp.second
        return dataclasses.replace(first, x=x, y=y, box=Box(x1=x, y1=y, x2=x + 1, y2=y + 1), zoom=zp)

    def _locate_once(self, target: str, image: Image.Image) -> Grounding:
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
