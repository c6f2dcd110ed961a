"""What every model family's dialect shares: parsed answers in model space, and the one
conversion of those answers into validated actions in frame pixels.

A parser turns raw model text into `ModelAction`s: the public action schema (see
`screenagent.actions`) with coordinates still in the model's space. Parsers use regular
expressions, ``json`` and ``ast.literal_eval`` on extracted literals only; model text is never
evaluated. Anything unusable raises `InvalidOutput`, which the loop feeds back to the model.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image
from pydantic import ValidationError

from ..actions import Action, check_bounds, format_validation_error, parse_action
from ..errors import InvalidOutput
from ..geometry import ModelSpace, model_to_frame, smart_resize

POINT_FIELDS = (("x", "y"), ("to_x", "to_y"))


@dataclass(frozen=True, kw_only=True)
class ModelAction:
    """One action as the model wrote it: the public schema, coordinates in ``space``."""

    data: dict[str, Any]
    space: ModelSpace | None = None
    """None when the action holds no coordinates (type, key, wait, done)."""


@dataclass(frozen=True, kw_only=True)
class ParsedAnswer:
    thought: str | None
    actions: tuple[ModelAction, ...]
    notes: tuple[str, ...] = ()
    """What the parser set aside and why (e.g. the other points of a list), for the step log."""


@dataclass(frozen=True, kw_only=True)
class Prompt:
    """What is sent with the screenshot: the user turn and, for families trained with one,
    a system message."""

    user: str
    system: str | None = None


class ImagePrep:
    """How a family's image is prepared: the size the model sees and the image to send.

    ``model_size`` is the size of the model's coordinate frame for this screenshot (what a
    dialect's parser receives); ``prepare`` returns the image to send. When the model's own
    processor does the same resize (``processor_resizes``), a local backend may send the frame
    as it is and report the size the processor chose instead.
    """

    processor_resizes = False

    def model_size(self, width: int, height: int) -> tuple[int, int]:
        raise NotImplementedError

    def prepare(self, image: Image.Image) -> Image.Image:
        size = self.model_size(*image.size)
        return image if size == image.size else image.resize(size, Image.Resampling.BICUBIC)


@dataclass(frozen=True, kw_only=True)
class Resize(ImagePrep):
    """Qwen ``smart_resize`` (Qwen2-VL, 2.5-VL, 3-VL and the models built on them)."""

    factor: int = 28
    min_pixels: int = 3136
    max_pixels: int = 12845056
    processor_resizes = True

    def model_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the image the model sees."""
        h, w = smart_resize(
            height,
            width,
            factor=self.factor,
            min_pixels=self.min_pixels,
            max_pixels=self.max_pixels,
        )
        return w, h


@dataclass(frozen=True, kw_only=True)
class ScaleToTarget(ImagePrep):
    """Downscale to the first listed size whose aspect ratio matches within ``tolerance`` and
    that is smaller than the screenshot (Anthropic's computer-use reference: XGA, WXGA,
    FWXGA); otherwise send the screenshot as it is."""

    targets: tuple[tuple[int, int], ...]
    tolerance: float = 0.02

    def model_size(self, width: int, height: int) -> tuple[int, int]:
        ratio = width / height
        for tw, th in self.targets:
            if abs(tw / th - ratio) < self.tolerance and tw < width:
                return tw, th
        return width, height


@dataclass(frozen=True, kw_only=True)
class PadToCanvas(ImagePrep):
    """Fit inside a fixed canvas keeping the aspect ratio, pasted at (0, 0) on white
    (Phi-Ground: 1008x672). ``model_size`` is the size of the pasted image, not the canvas:
    coordinates in the white margin are outside the screenshot."""

    canvas: tuple[int, int]

    def model_size(self, width: int, height: int) -> tuple[int, int]:
        cw, ch = self.canvas
        if width / height > cw / ch:
            return cw, max(1, int(cw / (width / height)))
        return max(1, int(ch * (width / height))), ch

    def prepare(self, image: Image.Image) -> Image.Image:
        inner = image.convert("RGB").resize(self.model_size(*image.size), Image.Resampling.LANCZOS)
        canvas = Image.new("RGB", self.canvas, (255, 255, 255))
        canvas.paste(inner, (0, 0))
        return canvas


GroundingPrompt = Callable[[str, tuple[int, int]], Prompt]
"""(target description, model-input size) -> the prompt."""
AgentPrompt = Callable[[str, str, tuple[int, int]], Prompt]
"""(task, earlier steps as text, model-input size) -> the prompt."""


def _plain(target: str, size: tuple[int, int]) -> Prompt:
    return Prompt(user=target)


@dataclass(frozen=True, kw_only=True)
class Dialect:
    """One model family's contract.

    Attributes:
        id: The family id (``ui-tars-1.5``, ``qwen2.5-vl`` ...).
        parse: Raw text and the model-input size -> a ParsedAnswer (raises InvalidOutput).
        resize: How the image is prepared (None: the model sees the screenshot as it is).
        grounding: The family's official grounding prompt for a target description.
        agent: The family's next-action prompt; None: the grounding prompt of the task plus
            the earlier steps.
        notes: Where the format comes from.
        zoom: The zoom-in factor of the family's official inference recipe (None: its recipe
            asks once; ``--zoom`` still turns a pass on).
    """

    id: str
    parse: Callable[[str, tuple[int, int]], ParsedAnswer]
    resize: ImagePrep | None = None
    grounding: GroundingPrompt = _plain
    agent: AgentPrompt | None = None
    notes: str = ""
    zoom: float | None = None

    def grounding_prompt(self, target: str, size: tuple[int, int]) -> Prompt:
        return self.grounding(target, size)

    def next_action_prompt(self, task: str, history: str, size: tuple[int, int]) -> Prompt:
        if self.agent is not None:
            return self.agent(task, history, size)
        prompt = self.grounding(task, size)
        if not history:
            return prompt
        return Prompt(user=f"{prompt.user}\n\nPrevious actions:\n{history}", system=prompt.system)

    def image_prep(
        self, min_pixels: int | None = None, max_pixels: int | None = None
    ) -> ImagePrep | None:
        """The family's image preparation with a pixel-budget override (Qwen-resize families
        only; for the others a budget has no meaning and is refused)."""
        if min_pixels is None and max_pixels is None:
            return self.resize
        if not isinstance(self.resize, Resize):
            from ..errors import ConfigError

            raise ConfigError(
                f"The {self.id} family has no pixel budget (its image is "
                f"{'sent as it is' if self.resize is None else 'scaled by fixed rules'}): "
                "drop --min-pixels/--max-pixels."
            )
        return dataclasses.replace(
            self.resize,
            min_pixels=min_pixels if min_pixels is not None else self.resize.min_pixels,
            max_pixels=max_pixels if max_pixels is not None else self.resize.max_pixels,
        )

    def model_input_size(
        self, width: int, height: int, resize: ImagePrep | None = None
    ) -> tuple[int, int]:
        r = resize or self.resize
        return r.model_size(width, height) if r is not None else (width, height)


def to_actions(answer: ParsedAnswer, *, image_width: int, image_height: int) -> list[Action]:
    """Convert a parsed answer to validated actions in image (frame) pixels.

    Raises InvalidOutput for a point outside the model's space or an action the schema rejects.
    """
    out: list[Action] = []
    problems: list[str] = []
    for i, ma in enumerate(answer.actions, 1):
        data = dict(ma.data)
        try:
            for fx, fy in POINT_FIELDS:
                if data.get(fx) is None:
                    continue
                if ma.space is None:
                    raise ValueError("coordinates without a coordinate space")  # a parser bug
                data[fx], data[fy] = model_to_frame(
                    float(data[fx]), float(data[fy]), space=ma.space,
                    frame_width=image_width, frame_height=image_height,
                )  # fmt: skip
            action = parse_action(data)
        except ValueError as exc:
            lines = format_validation_error(exc) if isinstance(exc, ValidationError) else [str(exc)]
            problems += [f"action {i}: {line}" for line in lines]
            continue
        bounds = check_bounds(action, image_width, image_height)
        if bounds:
            problems += [f"action {i}: {b}" for b in bounds]
            continue
        out.append(action)
    if problems:
        raise InvalidOutput("; ".join(problems), raw="")
    if not out:
        raise InvalidOutput("the answer holds no action", raw="")
    return out


# --- parsing helpers shared by several families -----------------------------------------------

_NUM = r"-?\d+(?:\.\d+)?"


def numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(_NUM, text)]


def point_of(text: str, what: str) -> tuple[float, float]:
    """A point from "(x,y)", "x y", "[x, y]" or a box "(x1,y1,x2,y2)" (its centre)."""
    nums = numbers(text)
    if len(nums) == 2:
        return nums[0], nums[1]
    if len(nums) == 4:
        return (nums[0] + nums[2]) / 2, (nums[1] + nums[3]) / 2
    raise InvalidOutput(
        f"{what}: expected a point (x, y) or a box (x1, y1, x2, y2), got {text!r}", raw=text
    )


def call_kwargs(call: str) -> tuple[str, dict[str, Any]]:
    """Parse ``name(key='value', n=3)`` safely: the syntax tree is inspected and only literal
    keyword values are accepted (``ast.literal_eval`` on each); nothing is executed."""
    try:
        tree = ast.parse(call.strip(), mode="eval")
    except SyntaxError as exc:
        raise InvalidOutput(
            f"cannot read the action {call.strip()!r}: {exc.msg}", raw=call
        ) from None
    node = tree.body
    if not isinstance(node, ast.Call):
        raise InvalidOutput(
            f"{call.strip()!r} is not an action call like click(start_box='(x,y)')", raw=call
        )
    name = ast.unparse(node.func)
    if node.args:
        raise InvalidOutput(
            f"{name}: give arguments by name, like {name}(start_box='(x,y)')", raw=call
        )
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise InvalidOutput(f"{name}: ** arguments are not allowed", raw=call)
        try:
            kwargs[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, TypeError, RecursionError, MemoryError):
            raise InvalidOutput(
                f"{name}: the value of {kw.arg} must be a literal", raw=call
            ) from None
    return name, kwargs


_FUNCTION = re.compile(r"<function=([\w.-]+)>(.*?)</function>", re.S)
_PARAMETER = re.compile(r"<parameter=([\w.-]+)>(.*?)</parameter>", re.S)


def function_calls(block: str) -> list[tuple[str, dict[str, str]]]:
    """The XML-style calls ``<function=NAME><parameter=KEY>value</parameter>...</function>`` of a
    tool-call block (UI-TARS-2's ``<seed:tool_call>``, Qwen3.5's ``<tool_call>``), in order, with
    each value as written (the family decides how to read it)."""
    return [(m.group(1), {p.group(1): p.group(2) for p in _PARAMETER.finditer(m.group(2))})
            for m in _FUNCTION.finditer(block)]  # fmt: skip


PHONE_ACTIONS = frozenset({
    "long_press", "longpress", "swipe", "press_back", "press_home", "press_recent", "back", "home",
    "system_button", "open_app", "open", "navigate_back", "navigate_home",
})  # fmt: skip
"""Actions of phone action spaces that have no desktop equivalent (names lower-cased, without a
``mobile.`` prefix)."""


def phone_action(name: str) -> bool:
    return name.strip().lower().removeprefix("mobile.").replace("-", "_") in PHONE_ACTIONS


def refuse_phone_action(name: str, raw: str) -> InvalidOutput:
    """The error for a phone-only action: named, never guessed at as a desktop one."""
    return InvalidOutput(
        f"{name} is a phone action (long press, swipe, back, home, open app); screenagent drives a "
        "desktop, where it has no equivalent: answer with a desktop action (click, double click, "
        "type, key, scroll, drag)",
        raw=raw,
    )


def done(success: bool, answer: str | None = None) -> ModelAction:
    return ModelAction(data={"action": "done", "success": success, "answer": answer or None})


def number(value: Any, what: str) -> float:
    """A JSON/Python number from a model's answer (bools and strings refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidOutput(f"{what} must be a number, got {value!r}", raw=repr(value))
    return float(value)


def key_names(value: Any, what: str) -> list[str]:
    """One key name or a non-empty list of them."""
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(k, str) for k in value):
        return list(value)
    raise InvalidOutput(
        f"{what} must be a key name or a list of key names, got {value!r}", raw=repr(value)
    )


def scroll_amount(value: object) -> int:
    """A scroll amount in wheel clicks, 1..50 (the schema's range), from any number."""
    try:
        n = abs(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidOutput(
            f"a scroll amount must be a number, got {value!r}", raw=repr(value)
        ) from None
    if n != n:  # NaN
        raise InvalidOutput("a scroll amount must be a number", raw=repr(value))
    return max(1, round(min(50.0, n)))


def split_keys(text: str) -> list[str]:
    """``ctrl c``, ``ctrl+c``, ``Control-C`` -> ["ctrl", "c"]."""
    parts = [p for p in re.split(r"[\s+]+", text.strip()) if p]
    return parts or [text]
