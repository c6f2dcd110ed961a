"""Matching target words against OCR lines: normalisation, edit similarity, candidates."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from ..geometry import Box
from ..ocr import OcrLine, OcrWord
from .model import Candidate, GroundedBy


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


def _word_spans(words: Sequence[OcrWord], longest: int) -> list[tuple[int, int, str, Box]]:
    """Runs of up to ``longest`` whole words: (start, end, their text, the union of boxes)."""
    out = []
    for i in range(len(words)):
        box = words[i].box
        for j in range(i + 1, min(len(words), i + longest) + 1):
            if j > i + 1:
                box = box.union(words[j - 1].box)
            out.append((i, j, " ".join(w.text for w in words[i:j]), box))
    return out


def _in_word_candidate(target: str, line: OcrLine) -> Candidate | None:
    """The target inside the line's text (inside a word, or a line without word boxes): the
    box estimated by characters, refined by the word that holds it."""
    idx = line.text.casefold().find(target.casefold()) if target.strip() else -1
    if idx < 0:
        return None
    words = line.words
    end = idx + len(target)
    box = _sub_box(line.box, line.text, idx, end)
    for w in words:
        w_idx = w.text.casefold().find(target.casefold())
        if w_idx >= 0 and w.box.x1 <= box.center[0] < w.box.x2:
            box = _sub_box(w.box, w.text, w_idx, w_idx + len(target))
            break
    whole_word = len(target) == len(line.text) or any(
        w.text.casefold() == target.casefold() for w in words
    )
    return Candidate(text=line.text[idx:end], box=box, score=0.9 if whole_word else 0.8,
                     grounded_by=GroundedBy.OCR)  # fmt: skip


def _fuzzy_candidate(target: str, line: OcrLine, fuzzy_min: float) -> Candidate | None:
    """The whole line or a span of up to 6 words, within a small edit distance."""
    nt = normalize(target)
    best: Candidate | None = None
    spans = [(line.text, line.box)] + [(text, box) for _, _, text, box in _word_spans(line.words, 6)]
    for text, box in spans:
        sim = similarity(nt, normalize(text))
        if sim >= fuzzy_min and (best is None or sim * 0.85 > best.score):
            best = Candidate(text=text, box=box, score=sim * 0.85, grounded_by=GroundedBy.OCR)
    return best


def _line_candidates(target: str, line: OcrLine, fuzzy_min: float) -> list[Candidate]:
    """Every way ``target`` matches in one OCR line, with the box of the matching part: the
    whole line, a run of whole words, a part of a word, or a fuzzy match, in that order."""
    whole = _text_score(target, line.text)
    if whole:
        return [Candidate(text=line.text, box=line.box, score=whole, grounded_by=GroundedBy.OCR)]
    words = line.words
    out = [
        Candidate(text=span, box=box, score=s * 0.92, grounded_by=GroundedBy.OCR)
        for i, j, span, box in (_word_spans(words, len(words) - 1) if len(words) > 1 else [])
        if (s := _text_score(target, span))
    ]
    if out or len(target.strip()) <= 2:
        return out  # a target of one or two characters ("=", "OK") matches whole words only
    part = _in_word_candidate(target, line) or _fuzzy_candidate(target, line, fuzzy_min)
    return [part] if part else []


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


