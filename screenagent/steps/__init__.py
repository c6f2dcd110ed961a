"""Steps: the one vocabulary (`model`), the task-text parser (`text`), the one runner
(`runner`). The YAML parser is `screenagent.testing.spec`."""

from .model import DEFAULT_TIMEOUTS, STEP_TYPES, Step, StepSpec
from .text import parse_task

__all__ = ["DEFAULT_TIMEOUTS", "STEP_TYPES", "Step", "StepSpec", "parse_task"]
