"""The Policy protocol: a step's context in, a proposal (untrusted) out.

A policy never executes anything and never validates for the loop: it proposes. The loop
validates the proposal (schema, frame bounds, safety) and feeds any error back to the policy
for a bounded number of retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..geometry import Frame
    from ..steplog import StepRecord


@dataclass(frozen=True, kw_only=True)
class StepContext:
    """What a policy sees when asked for the next action.

    Attributes:
        task: The user's task text.
        frame: The screen as captured for this step.
        step: 1-based step number.
        history: Records of the steps already done in this run (oldest first).
        feedback: Why the previous attempt at this step was rejected (empty on the first try).
        attempt: 0-based attempt number within this step.
    """

    task: str
    frame: Frame
    step: int
    history: Sequence[StepRecord] = ()
    feedback: Sequence[str] = ()
    attempt: int = 0


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """A policy's raw answer.

    Attributes:
        raw: The verbatim text the policy (or model) produced; kept in the step log.
        action: The proposed action, not yet validated (a dict, JSON text or an Action).
        thought: The policy's reasoning, if it gives any.
        meta: Anything worth logging (token counts, latency, model name).
        frame: The frame the action's coordinates refer to, when the policy looked at a newer
            capture than the step's (it waited for its target); that frame is logged, and the
            action is checked and executed against it.
    """

    raw: str
    action: Any
    thought: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    frame: Frame | None = None


class Policy(Protocol):
    """Decides one action per step."""

    name: str

    def preflight(self, frame: Frame) -> None:
        """Check everything checkable before the first action runs; raise ConfigError."""
        ...

    def decide(self, ctx: StepContext) -> Proposal: ...
