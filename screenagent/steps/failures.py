"""How a step or a run stops: `StepFailed` for people and tests, `RunStopped` for the run,
`Fail` inside the runner."""

from __future__ import annotations

from ..geometry import Frame
from ..steplog import StepInfo


class StepFailed(AssertionError):
    """A step failed (not optional, not soft); ``info.message`` says why."""

    def __init__(self, info: StepInfo) -> None:
        super().__init__(info.message or info.text)
        self.info = info


class RunStopped(Exception):
    """The run must end here: a budget is spent, the user quit at the confirmation, the
    executor failed or an error appeared on the screen. ``status`` is the run's status."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class Fail(Exception):
    """A step did not pass (the runner decides: failed, soft-failed or skipped)."""

    def __init__(self, message: str, frame: Frame | None = None) -> None:
        super().__init__(message)
        self.frame = frame
