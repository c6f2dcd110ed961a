"""The step log's records: typed, validated when read back (anything on disk may have been
edited). `screenagent.steplog` writes and reads them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Timings(BaseModel):
    """Seconds spent in each phase of a step."""

    model_config = ConfigDict(extra="forbid")

    capture: float = 0.0
    decide: float = 0.0
    check: float = 0.0
    """Validation and safety checks."""
    execute: float = 0.0
    settle: float = 0.0
    log: float = 0.0
    """Writing the frame (the JSON line itself is written after the step's timings are taken)."""


class Attempt(BaseModel):
    """One answer of the policy within a step, valid or not."""

    model_config = ConfigDict(extra="forbid")

    raw: str
    thought: str | None = None
    errors: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)


class SettleInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float
    settled: bool
    frames: int
    changed: bool
    first_change: float | None = None


StepStatus = Literal[
    "executed", "dry_run", "skipped", "invalid", "failed", "done", "error", "checked"
]
"""``checked``: a step that executes no action (a wait or an assertion) passed."""


class ZoomRecord(BaseModel):
    """A zoom-in pass, as logged (`screenagent.grounding.ZoomPass`): the first answer, the
    window asked about again, the second answer (None: unusable, the first stood), frame
    pixels."""

    model_config = ConfigDict(extra="forbid")

    first: tuple[int, int]
    window: list[int]
    magnification: float
    second: tuple[int, int] | None = None
    note: str = ""


class GroundingRecord(BaseModel):
    """Where a target was found (a `screenagent.grounding.Grounding`, as logged).

    Attributes:
        target: The target in words, as the step gave it.
        by: Which grounder placed it (ocr, image, cache, model, recording).
        box: The box found, in frame pixels [x1, y1, x2, y2].
        point: The point aimed at, in frame pixels.
        score: The match's score (0..1).
        text: The text matched.
        model: The model's name, when a model placed it.
        role: The accessible role, when the tree placed it (with its ``states``).
        agreement: How OCR's reading compared with the tree's box (agree / disagree: ...).
        notes: What else the grounder noticed.
        zoom: The zoom-in pass, when a model grounded it with one.
    """

    model_config = ConfigDict(extra="forbid")

    target: str
    by: str
    box: list[int]
    point: tuple[int, int]
    score: float
    text: str = ""
    model: str | None = None
    role: str | None = None
    states: list[str] = Field(default_factory=list)
    agreement: str | None = None
    notes: list[str] = Field(default_factory=list)
    zoom: ZoomRecord | None = None

    @classmethod
    def of(cls, g: Any) -> GroundingRecord:
        """From a `Grounding`."""
        return cls(target=g.target, by=str(g.grounded_by), box=g.box.as_list(), point=(g.x, g.y),
                   score=round(g.score, 4), text=g.text, model=g.model,
                   role=getattr(g, "role", None), states=list(getattr(g, "states", ())),
                   agreement=getattr(g, "agreement", None),
                   notes=list(getattr(g, "notes", ())),
                   zoom=ZoomRecord(**g.zoom.to_json()) if getattr(g, "zoom", None) else None)  # fmt: skip


StepResultStatus = Literal["passed", "failed", "soft-failed", "skipped"]


class StepInfo(BaseModel):
    """The step an action (or a check) belongs to: what a person wrote, and how it went.

    Attributes:
        number: The step's number in its run (1-based; several actions can share it).
        text: The step as a person reads it (``click 'Save'``).
        verb: The step's verb (click, type, expect_visible, ...).
        phase: before_each, test or after_each (YAML tests), run (task text).
        line: The YAML line of the step (None: not from a file).
        target: The step's main target in words.
        grounding: Where the target was found.
        to: Where the second target (drag) was found.
        field: The point typed into, when it is beside the grounded label.
        result: How the whole step went (on its last record).
        message: Why it failed, for people (names the target, grounder, timeout, screenshot).
        waited: Seconds spent waiting for the target or condition.
        looks: How many frames were examined.
        settle: Seconds spent waiting for the screen to settle.
        candidates: The best candidates when a target was not found.
        read: What a ``read`` step read.
        findings: Errors found on the screen (``expect_no_errors``), as `Finding` data.
        reason: The model's reason (``expect``).
        note: How the step went where that matters (``already checked: nothing to do``).
        verified: Whether the step's effect was seen: ``confirmed`` (the field shows the
            typed text, the box is checked...), ``no change``, ``diverged`` (something else
            happened), ``not checkable`` (nothing to compare: a secret, a field that went
            away); None: a step with no effect to check.
    """

    model_config = ConfigDict(extra="forbid")

    number: int
    text: str
    verb: str
    phase: str = "run"
    line: int | None = None
    target: str | None = None
    grounding: GroundingRecord | None = None
    to: GroundingRecord | None = None
    field: tuple[int, int] | None = None
    result: StepResultStatus | None = None
    message: str | None = None
    waited: float = 0.0
    looks: int = 0
    settle: float = 0.0
    candidates: list[str] = Field(default_factory=list)
    read: str | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)
    reason: str | None = None
    note: str | None = None
    verified: Literal["confirmed", "no change", "diverged", "not checkable"] | None = None


class StepRecord(BaseModel):
    """One line of ``steps.jsonl``.

    Attributes:
        index: 1-based step number.
        started_at: UTC time the step began (ISO 8601).
        frame: File name of the screenshot the policy saw, relative to the run directory.
        frame_size: Width and height of that frame in pixels.
        attempts: Every answer of the policy for this step, in order (raw text verbatim,
            secrets redacted).
        raw: The raw text of the last attempt.
        thought: The policy's reasoning for the action taken.
        action: The validated action in its public JSON form (None if none was valid).
        errors: Why the step did not run as proposed (validation or execution).
        screen_points: Where on the screen the action was aimed (pyautogui coordinates).
        status: What happened: executed, dry_run, skipped, invalid, failed, done, error.
        detail: How it was done, where that matters.
        timings: Seconds per phase.
        settle: The settle wait after the action, if one ran.
        warnings: Things a person should know (a settle cap reached, ...).
        step: The step this record belongs to (steps from task text, YAML, a Session call or a
            planner that names targets in words).
        after: File name of the screen after the step settled (the last record of an action
            step, when frames are saved).
    """

    model_config = ConfigDict(extra="forbid")

    index: int
    started_at: str
    frame: str | None = None
    frame_size: tuple[int, int] | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    raw: str = ""
    thought: str | None = None
    action: dict[str, Any] | None = None
    errors: list[str] = Field(default_factory=list)
    screen_points: list[tuple[int, int]] = Field(default_factory=list)
    status: StepStatus
    detail: str = ""
    timings: Timings = Field(default_factory=Timings)
    settle: SettleInfo | None = None
    warnings: list[str] = Field(default_factory=list)
    step: StepInfo | None = None
    after: str | None = None


RunStatus = Literal[
    "running",
    "success",
    "failure",
    "max_steps",
    "timeout",
    "aborted",
    "invalid",
    "error",
    "interrupted",
    "error_on_screen",
]


class RunResult(BaseModel):
    """How a run ended.

    Attributes:
        status: success (done, success=true), failure (done, success=false), max_steps,
            timeout, aborted (the user quit at a confirmation), invalid (the policy gave no
            valid action within its retries), error (an exception), interrupted (Ctrl-C),
            error_on_screen (an error appeared on the screen; watched by default, see
            ``--allow-errors``).
        steps: Number of steps recorded.
        answer: The policy's final answer, if any.
        message: A sentence for people when the run did not succeed.
    """

    model_config = ConfigDict(extra="forbid")

    status: RunStatus
    steps: int = 0
    answer: str | None = None
    message: str | None = None

    @property
    def success(self) -> bool:
        return self.status == "success"


class RunMeta(BaseModel):
    """``run.json``."""

    model_config = ConfigDict(extra="forbid")

    format: int = 1
    task: str
    policy: str
    executor: str
    started_at: str
    ended_at: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    screen: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    result: RunResult = Field(default_factory=lambda: RunResult(status="running"))
