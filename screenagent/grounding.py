"""Grounding: a target in words -> a box and a click point in frame pixels.

Targets:
- ``Save``, ``"Save As…"``, ``text:Save``: on-screen text. Matching tries, in order of score,
  the exact text, a case-insensitive match, one that ignores accents and punctuation, a part of
  a longer line (resolved to the box of that part, from the OCR word boxes), and a fuzzy match
  that tolerates small OCR slips.
- ``regex:Sav(e|ing)``: a regular expression searched in each line (case-insensitive).
- ``image:icons/gear.png``: template matching, tolerant of scale, for icons without text.
- Modifiers: ``#2`` picks the 2nd of several equal matches in reading order (``#-1`` the last);
  ``X near Y``, ``X left of Y``, ``X right of Y``, ``X above Y``, ``X below Y`` choose the match
  of X nearest to Y in that direction; ``X in Y`` keeps only matches inside Y, where Y is a
  target or a region ``x,y,w,h``. Text that reads the whole phrase (``Dropped in the box``)
  wins over the relation; quote a target to rule the relation out: ``"Log in"``.

Several equally good matches without ``#N`` or a relation raise `AmbiguousTarget` listing
them; no match raises `TargetNotFound` naming the closest candidates and their scores.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Literal

from PIL import Image

from .errors import ConfigError
from .geometry import Box
from .image_match import match_template
from .ocr import CachedOcr, OcrEngine, OcrLine, RapidOcrEngine

Relation = Literal["near", "left of", "right of", "above", "below", "in"]
_RELATIONS: tuple[Relation, ...] = ("left of", "right of", "near", "above", "below", "in")

class GroundedBy(str, Enum):
    """Which grounder placed a target (compare with these, never with free text)."""

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

    @property
    def point(self) -> tuple[int, int]:
        return self.box.center

    def describe(self) -> str:
        x, y = self.point
        return f"{self.text!r} at ({x}, {y}) score {self.score:.2f}"


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

    def to_json(self) -> dict[str, object]:
        extra: dict[str, object] = {"model": self.model} if self.model else {}
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

_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}


def _unquote(text: str) -> tuple[str, bool]:
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == _QUOTES[text[0]]:
        return text[1:-1], True
    return text, False


def _split_relation(text: str) -> tuple[str, Relation, str] | None:
    """Split ``X <relation> Y`` at the first relation word outside quotes."""
    in_quote: str | None = None
    lowered = text.lower()
    i = 0
    while i < len(text):
        ch = text[i]
        if in_quote:
            if ch == _QUOTES[in_quote]:
                in_quote = None
        elif ch in _QUOTES:
            in_quote = ch
        elif ch == " " and i > 0:
            for rel in _RELATIONS:
                token = f" {rel} "
                if lowered.startswith(token, i):
                    left, right = text[:i].strip(), text[i + len(token) :].strip()
                    if left and right:
                        return left, rel, right
        i += 1
    return None


_REGION = re.compile(r"^\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*$")
_NTH = re.compile(r"^(?P<body>.*?)\s*(?:#|\bnth\s*=\s*)(?P<n>-?\d+)\s*$", re.IGNORECASE)


def parse_target(text: str) -> Target:
    """Parse a target description; raises ConfigError for an empty or malformed one."""
    raw = text.strip()
    if not raw:
        raise ConfigError("An empty target: name the text, `regex:...` or `image:...` to find.")
    split = _split_relation(raw)
    if split is not None:
        left, rel, right = split
        base = parse_target(left)
        if rel == "in" and (m := _REGION.match(right)):
            x, y, w, h = (int(g) for g in m.groups())
            return replace(base, relation="in", region=Box(x1=x, y1=y, x2=x + w, y2=y + h), raw=raw)
        return replace(base, relation=rel, anchor=parse_target(right), raw=raw)
    nth = None
    body = raw
    unq, quoted = _unquote(body)
    if not quoted and (m := _NTH.match(body)):
        body, nth = m.group("body"), int(m.group("n"))
        if nth == 0:
            raise ConfigError(f"In target {raw!r}: #N counts from 1 (#-1 is the last).")
        unq, quoted = _unquote(body)
    value = unq
    kind: Literal["text", "regex", "image"] = "text"
    if not quoted:
        for prefix in ("text:", "regex:", "image:"):
            if value.lower().startswith(prefix):
                kind = prefix[:-1]  # type: ignore[assignment]
                value, _ = _unquote(value[len(prefix) :])
                break
    if not value:
        raise ConfigError(f"The target {raw!r} names nothing to find.")
    if kind == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            raise ConfigError(
                f"The target {raw!r} is not a valid regular expression: {exc}."
            ) from None
    return Target(kind=kind, value=value, nth=nth, raw=raw)


# --- text matching ----------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Case-folded, accents removed, punctuation as spaces, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        cat = unicodedata.category(ch)
        kept.append(ch if cat[0] in "LN" else " ")
    return " ".join("".join(kept).casefold().split())


def similarity(a: str, b: str) -> float:
    """1 - normalised edit distance (0..1), where swapping two neighbours counts as one edit
    (optimal string alignment): "Emial" is as close to "Email" as "Emaii" is."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return 1.0 - rows[-1][-1] / max(len(a), len(b))


def _text_score(target: str, text: str) -> float:
    """How well ``text`` (a whole OCR line or a span of it) equals ``target``."""
    if text == target:
        return 1.0
    if text.casefold() == target.casefold():
        return 0.97
    nt, nx = normalize(target), normalize(text)
    if nt and nt == nx:
        return 0.95
    return 0.0


def _sub_box(box: Box, text: str, start: int, end: int) -> Box:
    """Estimate the box of ``text[start:end]`` inside ``box`` by character share."""
    n = max(len(text), 1)
    x1 = box.x1 + round(box.width * start / n)
    x2 = box.x1 + round(box.width * end / n)
    return Box(x1=x1, y1=box.y1, x2=max(x2, x1 + 1), y2=box.y2)


def _line_candidates(target: str, line: OcrLine, fuzzy_min: float) -> list[Candidate]:
    """Every way ``target`` matches in one OCR line, with the box of the matching part."""
    out: list[Candidate] = []
    whole = _text_score(target, line.text)
    if whole:
        return [Candidate(text=line.text, box=line.box, score=whole, grounded_by=GroundedBy.OCR)]
    words = line.words
    nt = normalize(target)
    # A run of whole words equal to the target: the box of those words.
    if len(words) > 1:
        for i in range(len(words)):
            for j in range(i + 1, len(words) + 1):
                if j - i == len(words):
                    continue
                span = " ".join(w.text for w in words[i:j])
                s = _text_score(target, span)
                if s:
                    box = words[i].box
                    for w in words[i + 1 : j]:
                        box = box.union(w.box)
                    out.append(Candidate(text=span, box=box, score=s * 0.92, grounded_by=GroundedBy.OCR))
    if out:
        return out
    # A part of the line (inside a word, or lines without word boxes): estimate by characters.
    folded = line.text.casefold()
    idx = folded.find(target.casefold()) if target.strip() else -1
    if idx >= 0:
        end = idx + len(target)
        box = _sub_box(line.box, line.text, idx, end)
        for w in words:  # refine with the word that holds the match, when there is one
            w_idx = w.text.casefold().find(target.casefold())
            if w_idx >= 0 and w.box.x1 <= box.center[0] < w.box.x2:
                box = _sub_box(w.box, w.text, w_idx, w_idx + len(target))
                break
        whole_word = len(target) == len(line.text) or any(
            w.text.casefold() == target.casefold() for w in words
        )
        out.append(
            Candidate(
                text=line.text[idx:end],
                box=box,
                score=0.9 if whole_word else 0.8,
                grounded_by=GroundedBy.OCR,
            )
        )
        return out
    # Fuzzy: the whole line or a word span, within a small edit distance.
    best: Candidate | None = None
    spans: list[tuple[str, Box]] = [(line.text, line.box)]
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + 6) + 1):
            box = words[i].box
            for w in words[i + 1 : j]:
                box = box.union(w.box)
            spans.append((" ".join(w.text for w in words[i:j]), box))
    for text, box in spans:
        sim = similarity(nt, normalize(text))
        if sim >= fuzzy_min and (best is None or sim * 0.85 > best.score):
            best = Candidate(text=text, box=box, score=sim * 0.85, grounded_by=GroundedBy.OCR)
    return [best] if best else []


def _near_misses(target: str, lines: Sequence[OcrLine], n: int = 3) -> list[Candidate]:
    nt = normalize(target)
    scored = []
    for line in lines:
        texts = [(line.text, line.box)] + [(w.text, w.box) for w in line.words]
        best = max(texts, key=lambda t: similarity(nt, normalize(t[0])))
        scored.append(
            Candidate(
                text=best[0],
                box=best[1],
                score=similarity(nt, normalize(best[0])) * 0.85,
                grounded_by=GroundedBy.OCR,
            )
        )
    scored.sort(key=lambda c: -c.score)
    return scored[:n]


def reading_order(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Top to bottom, then left to right; boxes whose centres are within half a line height
    count as one row."""
    items = sorted(candidates, key=lambda c: c.box.center[1])
    rows: list[list[Candidate]] = []
    for c in items:
        if rows and abs(c.box.center[1] - rows[-1][0].box.center[1]) <= max(4, c.box.height // 2):
            rows[-1].append(c)
        else:
            rows.append([c])
    return [c for row in rows for c in sorted(row, key=lambda c: c.box.center[0])]


# --- the grounder -----------------------------------------------------------------------------


class Grounder:
    """Resolves targets on an image with OCR (cached per screen) and template matching.

    Args:
        ocr: The OCR engine (default: RapidOCR, cached so a screen is read once).
        base_dir: Where relative ``image:`` paths are looked up.
        fuzzy_min: Smallest similarity (0..1) that counts as a fuzzy text match.
        image_threshold: Smallest normalised correlation for an image match.
        second_look: When a text target is not found, read the screen again enlarged this
            many times (1 turns the second look off). Cached like the first look.
    """

    def __init__(
        self,
        ocr: OcrEngine | None = None,
        *,
        base_dir: str | Path | None = None,
        fuzzy_min: float = 0.75,
        image_threshold: float = 0.85,
        second_look: float = 2.0,
    ) -> None:
        self.ocr = ocr if ocr is not None else CachedOcr(RapidOcrEngine())
        self.second_look = second_look
        self.base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        self.fuzzy_min = fuzzy_min
        self.image_threshold = image_threshold

    # public ---------------------------------------------------------------------------------

    def locate(self, target: str | Target, image: Image.Image) -> Grounding:
        """The one place ``target`` is on ``image``; raises TargetNotFound / AmbiguousTarget."""
        t = parse_target(target) if isinstance(target, str) else target
        chosen, candidates = self._resolve(t, image)
        x, y = chosen.point
        return Grounding(
            target=str(t),
            x=x,
            y=y,
            box=chosen.box,
            text=chosen.text,
            score=chosen.score,
            grounded_by=chosen.grounded_by,
            candidates=tuple(candidates),
        )

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
        found = self.candidates(t, image)
        if t.region is not None:
            found = [c for c in found if t.region.contains_point(*c.point)]
        if t.kind != "image" and self.second_look > 1 and not any(c.score >= 0.9 for c in found):
            more = self.candidates(t, image, scale=self.second_look)
            if t.region is not None:
                more = [c for c in more if t.region.contains_point(*c.point)]
            if more and (not found or more[0].score > found[0].score):
                found = more
        return found

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
        return TargetNotFound(
            f"No text matching {t.value!r}{where} on the screen. Closest: {listing}.",
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
