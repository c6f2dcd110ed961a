"""The values of grounding: a parsed target, candidates, the result, and its errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from ..geometry import Box

Relation = Literal["near", "left of", "right of", "above", "below", "in"]
_RELATIONS: tuple[Relation, ...] = ("left of", "right of", "near", "above", "below", "in")

class GroundedBy(str, Enum):
    """Which grounder placed a target (compare with these, never with free text)."""

    TREE = "tree"
    """The accessibility tree named it (role, name, states)."""
    OCR = "ocr"
    IMAGE = "image"
    CACHE = "cache"
    MODEL = "model"
    RECORDING = "recording"
    """A replay found the recorded patch around the point."""

    def __str__(self) -> str:
        return self.value


TIE = 0.02
"""Matches within this score of the best count as equally good."""


@dataclass(frozen=True, kw_only=True)
class Target:
    """A parsed target description."""

    kind: Literal["text", "regex", "image"]
    value: str
    nth: int | None = None
    relation: Relation | None = None
    anchor: Target | None = None
    region: Box | None = None
    role: str | None = None
    """A role qualifier (``button``, ``checkbox``, ``field``...; see `grounding.roles`)."""
    raw: str = ""

    def __str__(self) -> str:
        return self.raw or self.value


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One place a target might be."""

    text: str
    box: Box
    score: float
    grounded_by: GroundedBy
    role: str | None = None
    """The accessible role, when the tree found it."""
    node: int | None = None
    """The node's index in the tree snapshot it came from."""

    @property
    def point(self) -> tuple[int, int]:
        return self.box.center

    def describe(self) -> str:
        x, y = self.point
        what = f"{self.role} " if self.role else ""
        return f"{what}{self.text!r} at ({x}, {y}) score {self.score:.2f}"


@dataclass(frozen=True, kw_only=True)
class ZoomPass:
    """What a zoom-in pass did: the first answer (whole frame), the window asked about again,
    and the second answer mapped back to the frame (None when it was unusable: ``note`` says
    why, and the first answer stands). Points in frame pixels."""

    first: tuple[int, int]
    window: Box
    magnification: float
    second: tuple[int, int] | None
    note: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "first": list(self.first), "window": self.window.as_list(),
            "magnification": round(self.magnification, 3),
            "second": list(self.second) if self.second else None, "note": self.note,
        }  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Grounding:
    """Where a target is: the click point and the box, in frame pixels."""

    target: str
    x: int
    y: int
    box: Box
    text: str
    score: float
    grounded_by: GroundedBy
    candidates: tuple[Candidate, ...] = field(default=(), repr=False)
    model: str | None = None
    """The model's name, when a model placed it (``grounded_by`` is then MODEL)."""
    role: str | None = None
    """The accessible role, when the tree placed it."""
    states: tuple[str, ...] = ()
    """The node's states (checked, focused, editable...), when the tree placed it."""
    value: str | None = None
    """A text field's text, when the tree placed it."""
    agreement: str | None = None
    """How OCR's reading of the same frame compares with the tree's box: ``agree``,
    ``disagree: ...`` or ``ocr found nothing there`` (None: not compared)."""
    notes: tuple[str, ...] = ()
    """What else the grounder noticed (a role it could not check without a tree...)."""
    zoom: ZoomPass | None = None
    """The zoom-in pass, when a model grounded it with one."""

    def to_json(self) -> dict[str, object]:
        extra: dict[str, object] = {"model": self.model} if self.model else {}
        if self.role:
            extra |= {"role": self.role, "states": list(self.states)}
        if self.agreement:
            extra["agreement"] = self.agreement
        if self.notes:
            extra["notes"] = list(self.notes)
        if self.zoom:
            extra["zoom"] = self.zoom.to_json()
        return extra | {
            "x": self.x,
            "y": self.y,
            "box": self.box.as_list(),
            "text": self.text,
            "score": round(self.score, 4),
            "grounded_by": str(self.grounded_by),
        }


class GroundingError(Exception):
    """A target could not be resolved to one place on this frame (the caller may retry on a
    newer frame; it is not a configuration error)."""

    def __init__(self, message: str, *, target: str, candidates: Sequence[Candidate] = ()) -> None:
        super().__init__(message)
        self.target = target
        self.candidates = tuple(candidates)


class TargetNotFound(GroundingError):
    pass


class AmbiguousTarget(GroundingError):
    pass


# --- parsing ----------------------------------------------------------------------------------

