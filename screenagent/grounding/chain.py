"""`Grounder`: a target on one image -> one `Grounding` (OCR text, regex, image matching)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import ConfigError
from ..ocr import CachedOcr, OcrEngine, OcrLine, RapidOcrEngine
from .image import field_beside, match_template
from .model import (
    TIE,
    AmbiguousTarget,
    Candidate,
    GroundedBy,
    Grounding,
    GroundingError,
    Target,
    TargetNotFound,
)
from .roles import tree_candidates
from .targets import parse_target
from .text import _line_candidates, _near_misses, _sub_box, reading_order

CLOSE = 0.5
"""A candidate this good, not good enough (0.9), is where a second, enlarged look reads."""


def _moved(line: OcrLine, dy: int) -> OcrLine:
    from ..findings.layout import _shift

    return _shift(line, 0, dy)


class Grounder:
    """Resolves targets on an image: the accessibility tree first (when a `TreeReader` is
    given and has a tree), then OCR (cached per screen) and template matching.

    Args:
        ocr: The OCR engine (default: RapidOCR, cached so a screen is read once).
        base_dir: Where relative ``image:`` paths are looked up.
        fuzzy_min: Smallest similarity (0..1) that counts as a fuzzy text match.
        image_threshold: Smallest normalised correlation for an image match.
        second_look: When a text target is not found, read the screen again enlarged this
            many times (1 turns the second look off). Cached like the first look.
        tree: The desktop's accessibility tree (`screenagent.a11y.TreeReader`); text targets
            are looked up there first, and OCR answers only what the tree does not.
    """

    def __init__(
        self,
        ocr: OcrEngine | None = None,
        *,
        base_dir: str | Path | None = None,
        fuzzy_min: float = 0.75,
        image_threshold: float = 0.85,
        second_look: float = 2.0,
        tree: Any = None,
    ) -> None:
        self.ocr = ocr if ocr is not None else CachedOcr(RapidOcrEngine())
        self.tree = tree
        self.second_look = second_look
        self.second_looked: str | None = None
        """Why the last lookup read the screen a second time, enlarged (None: it did not)."""
        self.base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        self.fuzzy_min = fuzzy_min
        self.image_threshold = image_threshold

    # public ---------------------------------------------------------------------------------

    def locate(self, target: str | Target, image: Image.Image) -> Grounding:
        """The one place ``target`` is on ``image``; raises TargetNotFound / AmbiguousTarget."""
        t = parse_target(target) if isinstance(target, str) else target
        chosen, candidates = self._resolve(t, image)
        x, y = chosen.point
        notes: list[str] = []
        node = None
        view = self._view(image) if t.kind == "text" else None
        if view is not None:  # a cut or partly silent tree: say so in the step record
            notes += view.snapshot.warnings + ([f"the tree was cut ({view.snapshot.cut})"]
                                               if view.snapshot.cut else [])  # fmt: skip
        if chosen.grounded_by is GroundedBy.TREE and chosen.node is not None:
            node = self._view(image).snapshot.nodes[chosen.node]
        elif t.role is not None and chosen.grounded_by is GroundedBy.OCR:
            notes.append(f"the role {t.role!r} was not checked (no accessibility tree here): "
                         "found by its text")  # fmt: skip
            if t.role == "field":  # the label's field: right of it or below it
                point = field_beside(image, chosen.box)
                if point is not None:
                    x, y = point
                    notes.append(f"aimed at the field beside the label, at ({x}, {y})")
        if self.second_looked:
            notes.append(self.second_looked)
        return Grounding(
            target=str(t),
            x=x,
            y=y,
            box=chosen.box,
            text=chosen.text,
            score=chosen.score,
            grounded_by=chosen.grounded_by,
            candidates=tuple(candidates),
            role=node.role if node else None,
            states=tuple(sorted(node.states)) if node else (),
            value=node.value if node else None,
            agreement=self._agreement(t, chosen, image) if node else None,
            notes=tuple(notes),
        )

    def _view(self, image: Image.Image) -> Any:
        """The tree as it applies to this frame (None: no tree here)."""
        return self.tree.view(image) if self.tree is not None else None

    def _agreement(self, t: Target, chosen: Candidate, image: Image.Image) -> str | None:
        """Compare the tree's box with OCR's reading of the same frame, when OCR has read it
        already (a tree lookup never pays for an OCR pass just to compare)."""
        peek = getattr(self.ocr, "peek", None)
        lines = peek(image) if peek is not None else None
        if lines is None or t.role == "field":
            return None
        found = [c for line in lines for c in _line_candidates(t.value, line, self.fuzzy_min)
                 if c.score >= 0.9]  # fmt: skip
        b = chosen.box
        inside = [c for c in found if b.x1 - 2 <= c.point[0] <= b.x2 + 2 and b.y1 - 2 <= c.point[1] <= b.y2 + 2]
        if inside:
            return "agree"
        if found:
            c = found[0]
            return (f"disagree: OCR read {c.text!r} at {c.point}, outside the tree's box "
                    f"{b.as_list()}")  # fmt: skip
        return "ocr found nothing there"

    def is_visible(self, target: str | Target, image: Image.Image) -> bool:
        """Whether the target is on the image at all (ambiguity counts as visible)."""
        try:
            self.locate(target, image)
        except AmbiguousTarget:
            return True
        except TargetNotFound:
            return False
        return True

    def read(self, image: Image.Image) -> list[OcrLine]:
        return self.ocr.read(image)

    # internals ------------------------------------------------------------------------------

    def candidates(self, t: Target, image: Image.Image, *, scale: float = 1.0) -> list[Candidate]:
        """All matches of the target itself (no relation, no nth), best first. ``scale`` > 1
        reads an enlarged copy of the screen (for small text the first look missed)."""
        tree_found: list[Candidate] = []
        if t.kind == "text" and scale == 1.0 and (view := self._view(image)) is not None:
            tree_found = tree_candidates(t, view, fuzzy_min=self.fuzzy_min)
            if tree_found and tree_found[0].score >= 0.9:
                return tree_found
        if t.kind == "image":
            found = self._image_candidates(t, image)
        else:
            lines = self.ocr.read(image, scale=scale)
            found = []
            if t.kind == "regex":
                pattern = re.compile(t.value, re.IGNORECASE)
                for line in lines:
                    for m in pattern.finditer(line.text):
                        if m.end() > m.start():
                            box = (
                                line.box
                                if (m.start(), m.end()) == (0, len(line.text))
                                else _sub_box(line.box, line.text, m.start(), m.end())
                            )
                            found.append(
                                Candidate(text=m.group(0), box=box, score=1.0, grounded_by=GroundedBy.OCR)
                            )
            else:
                for line in lines:
                    found += _line_candidates(t.value, line, self.fuzzy_min)
        found += tree_found
        found.sort(key=lambda c: -c.score)
        return found

    def _resolve(self, t: Target, image: Image.Image) -> tuple[Candidate, list[Candidate]]:
        if t.relation is not None and t.kind == "text":
            # "Dropped in the box" may be text, not "Dropped" inside "the box": a line that
            # reads the whole phrase wins over the relation.
            literal = Target(kind="text", value=t.raw, raw=t.raw)
            whole = [c for c in self.candidates(literal, image) if c.score >= 0.95]
            if whole:
                return self._resolve(literal, image)
        found = self._find(t, image)
        if not found:
            raise self._not_found(t, image)
        if t.anchor is not None:
            try:
                anchor, _ = self._resolve(t.anchor, image)
            except GroundingError as exc:
                raise type(exc)(
                    f"{exc} (while finding {t.raw!r}; quote a target that contains the word "
                    f'{t.relation!r}, like "Log in")',
                    target=t.raw,
                    candidates=exc.candidates,
                ) from None
            return self._by_relation(t, found, anchor), found
        best = found[0].score
        top = [c for c in found if c.score >= best - TIE]
        if t.nth is not None:
            ordered = reading_order(top)
            index = t.nth - 1 if t.nth > 0 else len(ordered) + t.nth
            if not 0 <= index < len(ordered):
                raise TargetNotFound(
                    f"{t.raw!r}: asked for match #{t.nth}, but there are {len(ordered)}: "
                    + "; ".join(c.describe() for c in ordered[:10]),
                    target=t.raw,
                    candidates=ordered,
                )
            return ordered[index], found
        if len(top) > 1:
            ordered = reading_order(top)
            listing = "; ".join(f"#{i} {c.describe()}" for i, c in enumerate(ordered[:10], 1))
            more = f" and {len(ordered) - 10} more" if len(ordered) > 10 else ""
            raise AmbiguousTarget(
                f"{t.raw!r} matches {len(ordered)} places equally well: {listing}{more}. "
                f"Add #N to pick one in reading order (e.g. '{t.value} #2') or a relation "
                f"such as '{t.value} near <other text>'.",
                target=t.raw,
                candidates=ordered,
            )
        return top[0], found

    def _find(self, t: Target, image: Image.Image) -> list[Candidate]:
        """Candidates inside the target's region; when the first look finds nothing close,
        a second look at the screen enlarged ``second_look`` times (short words on buttons,
        like "OK", are easy to miss at 1x on a busy screen)."""
        self.second_looked = None
        found = self.candidates(t, image)
        if t.region is not None:
            found = [c for c in found if t.region.contains_point(*c.point)]
        if t.kind != "image" and self.second_look > 1 and not any(c.score >= 0.9 for c in found):
            more = self._second_look(t, image, found)
            if t.region is not None:
                more = [c for c in more if t.region.contains_point(*c.point)]
            if more and (not found or more[0].score > found[0].score):
                found = more
        return found

    def _second_look(self, t: Target, image: Image.Image, found: list[Candidate]) -> list[Candidate]:
        """Read again enlarged: only around the candidates that came close (a band the width
        of the frame, a line above and below each), or the whole frame when none did. Says
        why in ``second_looked`` (the step record's grounding notes)."""
        close = [c.box for c in found if c.score >= CLOSE]
        k = self.second_look
        if not close:
            self.second_looked = f"a second look at {k:g}x over the whole screen: nothing came close at 1x"
            return self.candidates(t, image, scale=k)
        bands: list[tuple[int, int]] = []
        for b in sorted(close, key=lambda b: b.y1):
            top, bottom = max(0, b.y1 - b.height), min(image.height, b.y2 + b.height)
            if bands and top <= bands[-1][1]:
                bands[-1] = (bands[-1][0], max(bands[-1][1], bottom))
            else:
                bands.append((top, bottom))
        more: list[Candidate] = []
        for top, bottom in bands:
            for line in self.ocr.read(image.crop((0, top, image.width, bottom)), scale=k):
                more += _line_candidates(t.value, _moved(line, top), self.fuzzy_min)
        best = ", ".join(f"{c.text!r} ({c.score:.2f})" for c in found[:3] if c.score >= CLOSE)
        self.second_looked = (f"a second look at {k:g}x over {sum(b - a for a, b in bands)} rows around "
                              f"the close candidates {best}")  # fmt: skip
        return sorted(more, key=lambda c: -c.score)

    def _by_relation(self, t: Target, found: list[Candidate], anchor: Candidate) -> Candidate:
        a = anchor.box
        ax, ay = a.center

        def ok(c: Candidate) -> bool:
            # Directions compare centres with the anchor's extent (OCR boxes of neighbouring
            # rows often overlap by a few pixels); "same row/column" allows one box of slack.
            b = c.box
            cx, cy = b.center
            if b == a:
                return False
            same_row = abs(cy - ay) <= max(a.height, b.height)
            same_col = abs(cx - ax) <= max(a.width, b.width) or b.x1 <= ax < b.x2
            return {
                "near": True,
                "left of": cx < a.x1 and same_row,
                "right of": cx > a.x2 and same_row,
                "above": cy < ay - a.height / 2 and same_col,
                "below": cy > ay + a.height / 2 and same_col,
                "in": a.contains_point(cx, cy),
            }[t.relation or "near"]

        kept = [c for c in found if ok(c)]
        if not kept:
            raise TargetNotFound(
                f"{t.raw!r}: {len(found)} match{'es' * (len(found) != 1)} of {t.value!r}, but none "
                f"{t.relation} {anchor.describe()}: " + "; ".join(c.describe() for c in found[:5]),
                target=t.raw,
                candidates=found,
            )
        best = max(c.score for c in kept)
        top = [c for c in kept if c.score >= best - TIE]

        def dist(c: Candidate) -> float:
            cx, cy = c.point
            return float((cx - ax) ** 2 + (cy - ay) ** 2)

        top.sort(key=dist)
        if t.nth is not None:
            index = t.nth - 1 if t.nth > 0 else len(top) + t.nth
            if not 0 <= index < len(top):
                raise TargetNotFound(
                    f"{t.raw!r}: only {len(top)} matches", target=t.raw, candidates=top
                )
            return top[index]
        return top[0]

    def _not_found(self, t: Target, image: Image.Image) -> TargetNotFound:
        if t.kind == "image":
            return TargetNotFound(
                f"The image {t.value!r} is not on the screen (no match scored {self.image_threshold:.2f} "
                "or more).",
                target=t.raw,
            )
        lines = self.ocr.read(image)
        where = f" inside {t.region.as_list()}" if t.region is not None else ""
        if not lines:
            return TargetNotFound(
                f"No text matching {t.value!r}{where}: no text was read on the screen.",
                target=t.raw,
            )
        near = _near_misses(t.value, lines)
        listing = "; ".join(c.describe() for c in near)
        looked = f" ({self.second_looked}: not there either)" if self.second_looked else ""
        return TargetNotFound(
            f"No text matching {t.value!r}{where} on the screen. Closest: {listing}.{looked}",
            target=t.raw,
            candidates=near,
        )

    def _image_candidates(self, t: Target, image: Image.Image) -> list[Candidate]:
        path = Path(t.value)
        if not path.is_absolute():
            path = self.base_dir / path
        try:
            with Image.open(path) as tpl:
                template = tpl.convert("L")
        except OSError as exc:
            raise ConfigError(f"Cannot read the image target {path}: {exc}.") from None
        return [
            Candidate(text=f"image:{t.value}", box=box, score=score, grounded_by=GroundedBy.IMAGE)
            for box, score in match_template(image, template, threshold=self.image_threshold)
        ]
