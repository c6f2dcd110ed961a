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

from .chain import Grounder
from .model import (
    TIE,
    AmbiguousTarget,
    Candidate,
    GroundedBy,
    Grounding,
    GroundingError,
    Relation,
    Target,
    TargetNotFound,
    ZoomPass,
)
from .targets import parse_target
from .text import normalize, reading_order, similarity

__all__ = [
    "TIE", "AmbiguousTarget", "Candidate", "GroundedBy", "Grounder", "Grounding",
    "GroundingError", "Relation", "Target", "TargetNotFound", "ZoomPass", "normalize",
    "parse_target", "reading_order", "similarity",
]  # fmt: skip
