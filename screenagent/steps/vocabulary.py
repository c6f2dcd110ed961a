"""The step vocabulary as methods: `Session` (and anything with ``run(step)``) gets
``click``, ``type``, ``expect_visible``... each building one step model and running it."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict, Unpack

from ..steplog import StepInfo
from . import model as m
from .model import StepSpec


class StepOptions(TypedDict, total=False):
    """Options every step method takes."""

    timeout: float | None
    """Seconds to wait for the target or the condition (default: by kind of step)."""
    optional: bool
    """A failure skips the step instead of failing."""
    soft: bool
    """A failure is recorded and the steps go on."""


class StepMethods:
    """One method per step (see `screenagent.steps.model`); ``run`` does the work."""

    def run(self, step: StepSpec) -> StepInfo:
        raise NotImplementedError

    def _do(self, step: type[StepSpec], **fields: Any) -> StepInfo:
        """Run one step of this kind, built from the method's arguments."""
        return self.run(step.model_validate(fields))

    def click(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        """Click the target (waits for it to appear, up to the action timeout)."""
        return self._do(m.ClickStep, target=target, **opts)

    def double_click(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        return self._do(m.DoubleClickStep, target=target, **opts)

    def right_click(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        return self._do(m.RightClickStep, target=target, **opts)

    def hover(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        return self._do(m.HoverStep, target=target, **opts)

    def type(self, text: str, *, into: str | None = None, clear: bool | None = None,
             enter: bool = False, secret: bool = False, **opts: Unpack[StepOptions]) -> StepInfo:  # fmt: skip
        """Type text (into the field a target names: clicked, emptied first unless
        ``clear=False``); ``secret`` text never reaches a log."""
        return self._do(m.TypeStep, text=text, into=into, clear=clear, enter=enter, secret=secret,
                        **opts)  # fmt: skip

    def press(self, keys: str, *, times: int = 1, **opts: Unpack[StepOptions]) -> StepInfo:
        """Press a key or a chord (``"enter"``, ``"ctrl+s"``), ``times`` times."""
        return self._do(m.PressStep, keys=keys, times=times, **opts)

    def scroll(self, direction: str = "down", *, amount: int = 3, in_: str | None = None,
               **opts: Unpack[StepOptions]) -> StepInfo:  # fmt: skip
        return self._do(m.ScrollStep, direction=direction, amount=amount, in_=in_, **opts)

    def drag(self, from_: str, to: str, **opts: Unpack[StepOptions]) -> StepInfo:
        return self._do(m.DragStep, from_=from_, to=to, **opts)

    def sleep(self, seconds: float) -> StepInfo:
        """A fixed wait (prefer `wait_for` / `wait_until_gone`)."""
        return self._do(m.SleepStep, seconds=seconds)

    def wait_for(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        return self._do(m.WaitForStep, target=target, **opts)

    def wait_until_gone(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        return self._do(m.WaitUntilGoneStep, target=target, **opts)

    def expect_visible(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        return self._do(m.ExpectVisibleStep, target=target, **opts)

    def expect_not_visible(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        return self._do(m.ExpectNotVisibleStep, target=target, **opts)

    def expect_text(self, *, in_: str | None = None, equals: str | None = None,
                    contains: str | None = None, matches: str | None = None,
                    **opts: Unpack[StepOptions]) -> StepInfo:  # fmt: skip
        """The text (of the line holding ``in_``, or of the screen) equals / contains /
        matches; polled until the deadline."""
        return self._do(m.ExpectTextStep, in_=in_, equals=equals, contains=contains,
                        matches=matches, **opts)  # fmt: skip

    def expect_no_errors(self, *, warnings: bool = False, ignore: str | None = None,
                         **opts: Unpack[StepOptions]) -> StepInfo:  # fmt: skip
        return self._do(m.ExpectNoErrorsStep, warnings=warnings, ignore=ignore, **opts)

    def expect(self, statement: str, **opts: Unpack[StepOptions]) -> StepInfo:
        """A statement in words, judged by the session's model."""
        return self._do(m.ExpectStep, statement=statement, **opts)

    def check(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        """Tick a check box (nothing to do when it is ticked); verified by its state."""
        return self._do(m.CheckStep, target=target, **opts)

    def uncheck(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        """Clear a check box (nothing to do when it is clear); verified by its state."""
        return self._do(m.UncheckStep, target=target, **opts)

    def select(self, option: str, *, in_: str, **opts: Unpack[StepOptions]) -> StepInfo:
        """Choose ``option`` in the combo box or list ``in_``; verified after."""
        return self._do(m.SelectStep, option=option, in_=in_, **opts)

    def expect_checked(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        return self._do(m.ExpectCheckedStep, target=target, **opts)

    def expect_unchecked(self, target: str, **opts: Unpack[StepOptions]) -> StepInfo:
        return self._do(m.ExpectUncheckedStep, target=target, **opts)

    def expect_value(self, target: str, *, equals: str | None = None, contains: str | None = None,
                     matches: str | None = None, **opts: Unpack[StepOptions]) -> StepInfo:  # fmt: skip
        """A field's text (the tree's value; OCR at the field without a tree)."""
        return self._do(m.ExpectValueStep, target=target, equals=equals, contains=contains,
                        matches=matches, **opts)  # fmt: skip

    def expect_error(self, text: str, **opts: Unpack[StepOptions]) -> StepInfo:
        """An error reading ``text`` is on the screen (and is no failure from then on)."""
        return self._do(m.ExpectErrorStep, text=text, **opts)

    def read(self, target: str, *, timeout: float | None = None) -> str:
        """The line of text holding the target."""
        info = self.run(m.ReadStep(target=target, timeout=timeout))
        return info.read or ""

