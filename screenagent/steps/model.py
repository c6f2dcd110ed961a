"""The one step vocabulary: a pydantic model per step, for task text, YAML, Python and MCP.

A step names its target in words (see `screenagent.grounding` for targets); the runner
(`screenagent.steps.runner`) grounds it, waits, acts through the one action path (validation,
Safety, executor, step log) and checks. Two parsers produce these models: the task text of
``screenagent run`` (`screenagent.steps.text`) and the YAML of ``screenagent test``
(`screenagent.testing.spec`); a step written either way is the same value.

Options every step takes: ``timeout`` (seconds, or 500ms/15s/2m), ``optional`` (a failure
skips the step), ``soft`` (a failure is recorded and the steps go on; the test still fails).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..actions import normalize_key
from ..errors import ConfigError
from ..grounding import parse_target

# --- durations and variables -------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")


def parse_duration(value: Any) -> float:
    """Seconds from 5, 2.5, "500ms", "15s" or "2m"."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text such as 500ms, 15s, 2m")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"{value!r} is not a duration: write seconds (2.5) or 500ms, 15s, 2m")
        seconds = float(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[m.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


# --- steps -------------------------------------------------------------------------------------


def _check_target(value: str | None) -> str | None:
    """A target that parses; a malformed one is a ValueError, so that pydantic reports it with
    the step's place (file:line) like any other problem."""
    if value is not None:
        if not value.strip():
            raise ValueError("a target cannot be empty")
        try:
            parse_target(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
    return value


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a valid regex: {exc}") from None
    return value


class StepSpec(BaseModel):
    """Options every step takes."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    verb: ClassVar[str] = ""
    primary: ClassVar[str] = ""
    line: int = Field(default=0, exclude=True)
    """The YAML line the step is on (0: not from a file)."""
    source: str = Field(default="", exclude=True)
    """The task text the step was parsed from (empty: not from task text)."""
    timeout: float | None = None
    optional: bool = False
    soft: bool = False

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return None if v is None else parse_duration(v)

    kind: ClassVar[Literal["action", "expect", "wait"]] = "action"
    """Which default timeout applies (``optional`` steps use the optional one)."""

    def label(self) -> str:
        value = getattr(self, self.primary, None) if self.primary else None
        return f"{self.verb} {value!r}" if value is not None else self.verb

    def targets(self) -> list[str]:
        """The targets this step grounds, in order."""
        return [v for name in ("target", "into", "in_", "from_", "to")
                if isinstance(v := getattr(self, name, None), str)]  # fmt: skip


class _Targeted(StepSpec):
    primary: ClassVar[str] = "target"
    target: str

    _t = field_validator("target")(classmethod(lambda cls, v: _check_target(v)))


class _Waits(_Targeted):
    kind: ClassVar[Literal["action", "expect", "wait"]] = "wait"


class _Checks(_Targeted):
    kind: ClassVar[Literal["action", "expect", "wait"]] = "expect"


class ClickStep(_Targeted):
    verb: ClassVar[str] = "click"


class DoubleClickStep(_Targeted):
    verb: ClassVar[str] = "double_click"


class RightClickStep(_Targeted):
    verb: ClassVar[str] = "right_click"


class HoverStep(_Targeted):
    verb: ClassVar[str] = "hover"


class WaitForStep(_Waits):
    verb: ClassVar[str] = "wait_for"


class WaitUntilGoneStep(_Waits):
    verb: ClassVar[str] = "wait_until_gone"


class ExpectVisibleStep(_Checks):
    verb: ClassVar[str] = "expect_visible"


class ExpectNotVisibleStep(_Checks):
    verb: ClassVar[str] = "expect_not_visible"


class TypeStep(StepSpec):
    verb: ClassVar[str] = "type"
    primary: ClassVar[str] = "text"
    text: str
    into: str | None = None
    clear: bool | None = None  # default: True when `into` is given
    enter: bool = False
    secret: bool = False

    _t = field_validator("into")(classmethod(lambda cls, v: _check_target(v)))

    def label(self) -> str:
        shown = "•" * 6 if self.secret else repr(self.text)
        return f"type {shown}" + (f" into {self.into!r}" if self.into else "")


class PressStep(StepSpec):
    verb: ClassVar[str] = "press"
    primary: ClassVar[str] = "keys"
    keys: str
    times: int = Field(default=1, ge=1, le=100)

    @field_validator("keys")
    @classmethod
    def _keys(cls, v: str) -> str:
        """``ctrl + S`` -> ``ctrl+s``; an unknown key is an error here, not at run time."""
        keys = [k for k in re.split(r"\s*\+\s*", v.strip()) if k]
        if not keys:
            raise ValueError("name the keys to press, e.g. enter or ctrl+s")
        return "+".join(normalize_key(k) for k in keys)

    def chord(self) -> list[str]:
        return self.keys.split("+")


class ScrollStep(StepSpec):
    verb: ClassVar[str] = "scroll"
    primary: ClassVar[str] = "direction"
    direction: Literal["up", "down", "left", "right"] = "down"
    amount: int = Field(default=3, ge=1, le=100)
    in_: str | None = Field(default=None, alias="in")

    _t = field_validator("in_")(classmethod(lambda cls, v: _check_target(v)))


class DragStep(StepSpec):
    verb: ClassVar[str] = "drag"
    primary: ClassVar[str] = "from_"
    from_: str = Field(alias="from")
    to: str

    _t = field_validator("from_", "to")(classmethod(lambda cls, v: _check_target(v)))

    def label(self) -> str:
        return f"drag {self.from_!r} to {self.to!r}"


class SleepStep(StepSpec):
    verb: ClassVar[str] = "sleep"
    primary: ClassVar[str] = "seconds"
    seconds: float

    @field_validator("seconds", mode="before")
    @classmethod
    def _d(cls, v: Any) -> Any:
        return parse_duration(v)


class _TextCheck(StepSpec):
    """equals / contains / matches: exactly one (whitespace is normalised; matches is a regex)."""

    kind: ClassVar[Literal["action", "expect", "wait"]] = "expect"
    equals: str | None = None
    contains: str | None = None
    matches: str | None = None

    @model_validator(mode="after")
    def _one_check(self) -> _TextCheck:
        given = [k for k in ("equals", "contains", "matches") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"{self.verb} needs exactly one of equals, contains or matches")
        if self.matches is not None:
            try:
                _check_regex(self.matches)
            except ValueError as exc:
                raise ValueError(f"matches: {exc}") from None
        return self

    @property
    def how(self) -> Literal["equals", "contains", "matches"]:
        return "equals" if self.equals is not None else "contains" if self.contains is not None else "matches"

    @property
    def wanted(self) -> str:
        return str(getattr(self, self.how))

    def passes(self, text: str) -> bool:
        """Whether ``text`` satisfies the check."""
        got, want = " ".join(text.split()), " ".join(self.wanted.split())
        if self.how == "equals":
            return got == want
        if self.how == "contains":
            return want in got
        return re.search(self.wanted, text) is not None


class ExpectTextStep(_TextCheck):
    verb: ClassVar[str] = "expect_text"
    primary: ClassVar[str] = "in_"
    in_: str | None = Field(default=None, alias="in")

    _t = field_validator("in_")(classmethod(lambda cls, v: _check_target(v)))

    def label(self) -> str:
        where = f" in {self.in_!r}" if self.in_ else ""
        return f"expect_text{where} {self.how} {self.wanted!r}"


class ScreenshotStep(StepSpec):
    verb: ClassVar[str] = "screenshot"
    primary: ClassVar[str] = "name"
    name: str = "screenshot"


class ExpectStep(StepSpec):
    verb: ClassVar[str] = "expect"
    kind: ClassVar[Literal["action", "expect", "wait"]] = "expect"
    primary: ClassVar[str] = "statement"
    statement: str = Field(min_length=3)


class ExpectNoErrorsStep(StepSpec):
    verb: ClassVar[str] = "expect_no_errors"
    kind: ClassVar[Literal["action", "expect", "wait"]] = "expect"
    warnings: bool = False
    ignore: str | None = None

    _r = field_validator("ignore")(classmethod(lambda cls, v: _check_regex(v)))


class CheckStep(_Targeted):
    """Tick a check box (or press a toggle): a no-op when it is already checked; verified
    after by the accessibility tree's ``checked`` state."""

    verb: ClassVar[str] = "check"


class UncheckStep(_Targeted):
    """Clear a check box: a no-op when it is already clear; verified after."""

    verb: ClassVar[str] = "uncheck"


class SelectStep(StepSpec):
    """Choose ``option`` in a combo box or list ``in``: open it, click the option, verify."""

    verb: ClassVar[str] = "select"
    primary: ClassVar[str] = "option"
    option: str
    in_: str = Field(alias="in")

    _t = field_validator("option", "in_")(classmethod(lambda cls, v: _check_target(v)))

    def label(self) -> str:
        return f"select {self.option!r} in {self.in_!r}"

    def targets(self) -> list[str]:
        return [self.in_, self.option]


class ExpectCheckedStep(_Checks):
    verb: ClassVar[str] = "expect_checked"


class ExpectUncheckedStep(_Checks):
    verb: ClassVar[str] = "expect_unchecked"


class ExpectValueStep(_TextCheck):
    """A field's text (the accessibility tree's value; OCR of the field without a tree)."""

    verb: ClassVar[str] = "expect_value"
    primary: ClassVar[str] = "target"
    target: str

    _t = field_validator("target")(classmethod(lambda cls, v: _check_target(v)))

    def label(self) -> str:
        return f"expect_value {self.target!r} {self.how} {self.wanted!r}"


class ExpectErrorStep(StepSpec):
    """An error the previous step is expected to cause: passes once an error whose title or
    message contains ``text`` is on the screen, which from then on fails nothing (the error
    watch lets it be)."""

    verb: ClassVar[str] = "expect_error"
    kind: ClassVar[Literal["action", "expect", "wait"]] = "expect"
    primary: ClassVar[str] = "text"
    text: str = Field(min_length=1)


class ReadStep(_Waits):
    """The line of text holding the target becomes part of the run's answer."""

    verb: ClassVar[str] = "read"


class DoneStep(StepSpec):
    """End the run here with success (the answer is what ``read`` steps read)."""

    verb: ClassVar[str] = "done"


STEP_TYPES: dict[str, type[StepSpec]] = {
    t.verb: t
    for t in (
        ClickStep, DoubleClickStep, RightClickStep, HoverStep, TypeStep, PressStep, ScrollStep,
        DragStep, WaitForStep, WaitUntilGoneStep, SleepStep, ExpectVisibleStep,
        ExpectNotVisibleStep, ExpectTextStep, ScreenshotStep, ExpectStep, ExpectNoErrorsStep,
        ReadStep, DoneStep, CheckStep, UncheckStep, SelectStep, ExpectCheckedStep,
        ExpectUncheckedStep, ExpectValueStep, ExpectErrorStep,
    )
}  # fmt: skip




Step = StepSpec
"""Any step (each step class is a `StepSpec`; `STEP_TYPES` maps verbs to them)."""

DEFAULT_TIMEOUTS = {"action": 15.0, "expect": 10.0, "optional": 2.0, "wait": 30.0}
"""Seconds: actions wait for their target, assertions poll, optional steps give up, explicit
waits (``wait_for``/``wait_until_gone``) wait."""
