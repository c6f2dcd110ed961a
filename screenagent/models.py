"""Models as one object (`load_model`), and the one "ask, validate, feed back, retry" helper.

`load_model("hf:PATH" | "openai:NAME", ...)` returns a `Model`: the backend (transport), the
family's dialect (prompt and output format) and the image preparation (resize and pixel
budget) resolved together, so that the budget the backend's processor applies and the one the
parser assumes can never diverge. Everything that talks to a model goes through
`ask_structured`: the agent loop (any policy), the VLM and planner policies, the model
grounder, the VLM error reader and the ``expect:`` judge.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ValidationError

from .errors import ConfigError, InvalidOutput

if TYPE_CHECKING:
    from .backends import Backend
    from .dialects import Dialect, ImagePrep

S = TypeVar("S")
T = TypeVar("T")

MODEL_SPEC = "'hf:<folder or hub id>' (local transformers) or 'openai:<model name>' (with base_url)"


# --- the one retry helper --------------------------------------------------------------------


def feedback_text(errors: Sequence[str], hint: str = "") -> str:
    """What a model is told after an unusable answer (the one wording, everywhere)."""
    text = "Your previous answer could not be used: " + "; ".join(errors) + "."
    return text + (f" {hint}" if hint else " Answer again.")


def first_error(exc: BaseException) -> str:
    """One line a model (or a person) can act on, from a validation or parsing error."""
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        return f"{where}: {msg}" if where else msg
    return (str(exc).splitlines() or [type(exc).__name__])[0]


@dataclass(frozen=True, kw_only=True)
class Tried:
    """One answer within `ask_structured`, usable or not.

    Attributes:
        raw: The model's text, verbatim.
        errors: Why it could not be used (empty for the accepted answer).
        meta: What the call cost and what was sent (model, tokens, prompt).
        reply: What ``send`` returned (None when ``send`` itself raised InvalidOutput).
    """

    raw: str
    errors: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    reply: Any = None


@dataclass(frozen=True, kw_only=True)
class Answered(Generic[T]):
    """The accepted value and every attempt that led to it (the last one is the accepted)."""

    value: T
    attempts: tuple[Tried, ...]


class NoUsableAnswer(InvalidOutput):
    """Every attempt of `ask_structured` was unusable; ``attempts`` holds them all."""

    def __init__(self, message: str, *, attempts: Sequence[Tried]) -> None:
        last = attempts[-1] if attempts else Tried(raw="")
        super().__init__(message, raw=last.raw, meta=last.meta)
        self.attempts = tuple(attempts)


def ask_structured(
    send: Callable[[tuple[str, ...]], S],
    validate: Callable[[S], T],
    *,
    retries: int,
    raw: Callable[[S], str] = str,
    meta: Callable[[S], dict[str, Any]] = lambda _reply: {},
    what: str = "answer",
) -> Answered[T]:
    """Ask, validate, feed the first error back, at most ``retries`` more times.

    Args:
        send: Asks the model; gets the errors of the previous attempt (empty at first) to put
            into its prompt with `feedback_text`. It may raise InvalidOutput itself (an
            answer it could not parse): that counts as an unusable attempt.
        validate: Turns a reply into the value, or raises InvalidOutput, a pydantic
            ValidationError or ValueError naming what is wrong.
        retries: Extra attempts after the first (0: ask once).
        raw: The verbatim text of a reply (for the record).
        meta: What a reply cost (for the record).
        what: Names the value in the final error ("list of findings", "verdict").

    Returns the value and every attempt; raises `NoUsableAnswer` when none was usable.
    """
    attempts: list[Tried] = []
    errors: tuple[str, ...] = ()
    for _ in range(max(0, retries) + 1):
        try:
            reply = send(errors)
        except InvalidOutput as exc:
            errors = (str(exc),)
            attempts.append(Tried(raw=exc.raw, errors=errors, meta=dict(exc.meta)))
            continue
        try:
            value = validate(reply)
        except (InvalidOutput, ValidationError, ValueError) as exc:
            errors = (first_error(exc),)
            attempts.append(Tried(raw=raw(reply), errors=errors, meta=meta(reply), reply=reply))
            continue
        attempts.append(Tried(raw=raw(reply), meta=meta(reply), reply=reply))
        return Answered(value=value, attempts=tuple(attempts))
    n = len(attempts)
    raise NoUsableAnswer(
        f"the model gave no usable {what} in {n} attempt{'s' * (n != 1)} "
        f"(last error: {'; '.join(errors)})",
        attempts=attempts,
    )


def json_object(text: str) -> Any:
    """The JSON object in a model's answer (a ```json fence, or the outermost braces)."""
    fence = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.S)
    body = fence.group(1) if fence else None
    if body is None:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise InvalidOutput("answer with one JSON object and nothing else", raw=text)
        body = text[start : end + 1]
    return loads(body, raw=text, what="the JSON cannot be read")


def loads(body: str, *, raw: str, what: str) -> Any:
    """``json.loads`` for model answers: a syntax error is an InvalidOutput that starts with
    ``what`` (fed back to the model), never an exception of the json module."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"{what}: {exc.msg} at column {exc.colno}", raw=raw) from None


# --- models as one object --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Model:
    """A model ready to use: transport, family contract and image preparation, resolved once.

    Attributes:
        spec: What was asked for (``hf:...`` / ``openai:...``).
        backend: Moves a prompt and an image to the model, text back.
        dialect: The family's prompts and parser (None for a model of no known family: it can
            read errors and judge statements, but not ground or act).
        prep: The family's image preparation with the pixel budget in force (None with no
            dialect: images are sent as they are).
        zoom: The zoom-in factor its points are refined with (None: one look).
    """

    spec: str
    backend: Backend
    dialect: Dialect | None = None
    prep: ImagePrep | None = None
    zoom: float | None = None

    @property
    def name(self) -> str:
        return str(self.backend.name)

    def _need_dialect(self, use: str) -> Dialect:
        if self.dialect is None:
            raise ConfigError(
                f"{use} needs the model's family: give `family` (e.g. ui-tars-1.5, qwen2.5-vl; "
                "`screenagent parse --help` lists them)."
            )
        return self.dialect

    def policy(self, *, context: str = "") -> Any:
        """A policy where this model decides every action (`VLMPolicy`)."""
        from .policies.vlm import VLMPolicy

        return VLMPolicy(self.backend, self._need_dialect("Deciding actions"), self.prep,
                         context=context, zoom=self.zoom)  # fmt: skip

    def grounder(self, *, retries: int = 1) -> Any:
        """This model as a grounder: a target in words -> a point (`ModelGrounder`)."""
        from .policies.vlm import ModelGrounder

        return ModelGrounder(self.backend, self._need_dialect("Grounding"), self.prep,
                             retries=retries, zoom=self.zoom)  # fmt: skip

    def judge(self) -> Any:
        """This model as the judge of ``expect`` statements."""
        from .testing.judge import VLMJudge

        return VLMJudge(self.backend)

    def error_reader(self, *, ocr: Any = None, retries: int = 2) -> Any:
        """This model as a reader of errors on the screen."""
        from .findings.vlm import VLMErrorReader

        return VLMErrorReader(self.backend, prep=self.prep, ocr=ocr, retries=retries)


def load_model(
    spec: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    family: str | None = None,
    family_required: bool = True,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    device: str | None = None,
    dtype: str | None = None,
    image_format: str = "png",
    request_timeout: float = 120.0,
    zoom: float | None = None,
) -> Model:
    """Load ``hf:PATH`` (local transformers) or ``openai:NAME`` (an OpenAI-compatible server).

    Args:
        spec: ``hf:<folder or hub id>`` or ``openai:<model name>``.
        base_url: The server's ``/v1`` URL (``openai:`` only; None: OpenAI's own API, which
            needs ``api_key``).
        api_key: The server's key (``openai:`` only).
        family: The model family (default: detected from the name).
        family_required: Raise when the family is unknown (False: a model of no known family
            is loaded with no dialect; images are then sent as they are).
        min_pixels, max_pixels: The pixel budget of Qwen-resize families; the same budget
            goes to a local processor and to the parser.
        device, dtype: transformers only (default: the best device, its usual dtype).
        image_format: ``png`` or ``jpeg`` over HTTP.
        request_timeout: Seconds for one HTTP request.
        zoom: Refine every point with a zoom-in pass: ask again on a window of 1/zoom of the
            screen around the first answer (2 is a good start). None: the family's official
            recipe decides (none of the families here zooms by default); 0: off.
    """
    from .dialects import Resize, get_dialect
    from .policies.vlm import detect_family

    kind, _, name = spec.partition(":")
    if kind not in ("hf", "openai") or not name:
        raise ConfigError(f"Model {spec!r}: give {MODEL_SPEC}.")
    fam = family or detect_family(name)
    dialect = prep = None
    if fam is None and family_required:
        raise ConfigError(
            f"Cannot tell the family of {name!r} from its name: give `family` (e.g. "
            "ui-tars-1.5, qwen2.5-vl; `screenagent parse --help` lists them)."
        )
    if zoom is not None and zoom != 0 and not zoom > 1:
        raise ConfigError(f"zoom must be above 1 (or 0 for off), got {zoom:g}")
    if fam is not None:
        dialect = get_dialect(fam)
        prep = dialect.image_prep(min_pixels, max_pixels)
        zoom = dialect.zoom if zoom is None else zoom
    elif zoom:
        raise ConfigError("zoom refines a grounding model's points: it needs the model's family.")
    backend: Any
    if kind == "hf":
        from .backends import TransformersBackend

        budget = prep if isinstance(prep, Resize) else None
        backend = TransformersBackend(
            name, device=device, dtype=dtype,
            min_pixels=budget.min_pixels if budget else None,
            max_pixels=budget.max_pixels if budget else None,
        )  # fmt: skip
    else:
        from .backends import OpenAIBackend

        if base_url is None and api_key is None:
            raise ConfigError(
                f"{spec}: give `base_url` (http://HOST:PORT/v1) for a local server, or "
                "`api_key` for OpenAI's own API."
            )
        backend = OpenAIBackend(name, base_url=base_url, api_key=api_key,
                                timeout=request_timeout, image_format=image_format)  # fmt: skip
    return Model(spec=spec, backend=backend, dialect=dialect, prep=prep, zoom=zoom or None)
