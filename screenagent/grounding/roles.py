"""Grounding in the accessibility tree: role qualifiers and the candidates a tree view gives.

A plain target (``Save``) matches the names of visible nodes that are not containers, in the
same order as OCR text (exact > case > accents/punctuation > whole words of a longer name >
part of a word > fuzzy), and an interactive node wins over a label of the same name. A target
of one or two characters (``=``, ``+``, ``OK``) matches whole names and words only, never
fuzzily. A role-qualified target (``button:Save``, ``checkbox:I agree``, ``field:Full name``)
keeps only nodes of that role; ``field:`` means an editable node labelled so: its own name,
its labelled-by relation, or a label just above or left of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..a11y.reader import TreeView
from ..a11y.tree import CONTAINERS, Node, Snapshot
from ..errors import ConfigError
from ..geometry import Box
from .model import Candidate, GroundedBy, Target
from .text import _text_score, normalize, similarity

ROLE_QUALIFIERS: dict[str, frozenset[str]] = {
    "button": frozenset({"push button", "toggle button", "push button menu"}),
    "checkbox": frozenset({"check box", "check menu item"}),
    "radio": frozenset({"radio button", "radio menu item"}),
    "field": frozenset({"entry", "password text", "spin button", "text", "combo box"}),
    "combobox": frozenset({"combo box"}),
    "menu": frozenset({"menu"}),
    "menuitem": frozenset({"menu item", "check menu item", "radio menu item", "tearoff menu item"}),
    "tab": frozenset({"page tab"}),
    "link": frozenset({"link"}),
    "listitem": frozenset({"list item", "tree item", "table cell"}),
    "slider": frozenset({"slider"}),
    "label": frozenset({"label", "static", "caption", "heading"}),
    "heading": frozenset({"heading"}),
    "dialog": frozenset({"dialog", "alert", "file chooser"}),
    "window": frozenset({"frame", "window", "dialog", "alert", "file chooser"}),
}
"""Qualifier (spaces removed: ``list item`` = ``listitem``) -> the AT-SPI roles it covers."""

ALIASES = {"check": "checkbox", "combo": "combobox", "item": "listitem", "entry": "field",
           "textbox": "field", "input": "field"}  # fmt: skip

QUALIFIER_NAMES = ("button", "checkbox", "radio", "field", "combobox", "menu", "menuitem",
                   "tab", "link", "list item", "slider", "label", "heading", "dialog", "window")  # fmt: skip


ROLE_WORDS = {"field": "text field", "combobox": "combo box", "menuitem": "menu item",
              "listitem": "list item", "radio": "radio button", "checkbox": "check box"}  # fmt: skip


def in_words(target: str) -> str:
    """A role-qualified target as a person (or a grounding model) would say it:
    ``button:Save`` -> ``the 'Save' button``; other targets stay as they are."""
    from .targets import parse_target

    try:
        t = parse_target(target)
    except ConfigError:
        return target
    if t.role is None or t.relation is not None:
        return target
    role = ROLE_WORDS.get(t.role, t.role)
    return f"the {role} labelled {t.value!r}" if t.role == "field" else f"the {t.value!r} {role}"


def qualifier(word: str) -> str | None:
    """The canonical qualifier for ``word`` (``check box`` -> ``checkbox``), or None."""
    key = "".join(word.lower().split())
    key = ALIASES.get(key, key)
    return key if key in ROLE_QUALIFIERS else None


def unknown_role(word: str, raw: str) -> ConfigError:
    return ConfigError(
        f"The target {raw!r} names the role {word!r}, which does not exist. Roles: "
        + ", ".join(QUALIFIER_NAMES)
        + f'. Quote the target to find the text itself: \'"{raw}"\'.'
    )


def name_score(target: str, name: str, *, fuzzy_min: float = 0.75) -> float:
    """How well an accessible name matches the target (0: not at all); see the module doc."""
    if not name:
        return 0.0
    whole = _text_score(target, name)
    if whole:
        return whole
    short = len(target.strip()) <= 2
    words = name.split()
    if len(words) > 1:
        for n in range(len(words) - 1, 0, -1):
            for i in range(len(words) - n + 1):
                s = _text_score(target, " ".join(words[i : i + n]))
                if s:
                    return s * 0.92
    if short:
        return 0.0
    if target.casefold() in name.casefold():
        return 0.8
    sim = similarity(normalize(target), normalize(name))
    return sim * 0.85 if sim >= fuzzy_min else 0.0


def tree_candidates(t: Target, view: TreeView, *, fuzzy_min: float = 0.75) -> list[Candidate]:
    """Candidates for a text target among the nodes visible in a `TreeView`, best first."""
    snap = view.snapshot
    visible = view.visible()
    roles = ROLE_QUALIFIERS.get(t.role) if t.role else None
    out: list[Candidate] = []

    def add(node: Node, score: float, text: str) -> None:
        box = view.box(node)
        if box is not None and score > 0:
            out.append(Candidate(text=text, box=box, score=score, grounded_by=GroundedBy.TREE,
                                 role=node.role, node=node.index))  # fmt: skip

    if t.role == "field":
        _field_candidates(t, snap, visible, add, fuzzy_min)
    else:
        for n in visible:
            if roles is not None and n.role not in roles:
                continue
            if roles is None and n.role in CONTAINERS:
                continue
            score = name_score(t.value, n.name, fuzzy_min=fuzzy_min)
            if roles is None and not n.interactive:
                score *= 0.95
            add(n, score, n.name)
    best: dict[int | None, Candidate] = {}
    for c in out:
        if c.node not in best or c.score > best[c.node].score:
            best[c.node] = c
    # a heading and the text inside it, a link and its text: the same thing once (the inner one)
    inner = {c.node: c for c in best.values()}
    for c in list(best.values()):
        parent = snap.nodes[c.node].parent if c.node is not None else None
        while parent is not None:
            outer = inner.get(parent)
            if outer is not None and normalize(outer.text) == normalize(c.text):
                best.pop(parent, None)
            parent = snap.nodes[parent].parent
    return sorted(best.values(), key=lambda c: -c.score)


def _field_candidates(t: Target, snap: Snapshot, visible: Sequence[Node],
                      add: Callable[[Node, float, str], None], fuzzy_min: float) -> None:  # fmt: skip
    """Editable nodes named so, labelled so (labelled-by), or under/right of a label so."""
    editable = [n for n in visible if n.editable]
    for n in editable:
        add(n, name_score(t.value, n.name, fuzzy_min=fuzzy_min), n.name)
        for i in n.labelled_by:
            label = snap.nodes[i]
            add(n, name_score(t.value, label.name, fuzzy_min=fuzzy_min), label.name)
    for label in visible:
        if label.role not in ("label", "static", "text", "caption") or label.editable:
            continue
        score = name_score(t.value, label.name, fuzzy_min=fuzzy_min)
        field = _field_near(label, editable) if score else None
        if field is not None:
            add(field, score * 0.97, label.name)


def _field_near(label: Node, editable: Sequence[Node], reach: int = 400) -> Node | None:
    """The editable node nearest below or right of a label (in screen coordinates)."""
    lb = label.box
    if lb is None:
        return None
    best, best_d = None, float(reach)
    for n in editable:
        b = n.box
        if b is None:
            continue
        right = b.left >= lb.right - 4 and b.top < lb.bottom and b.bottom > lb.top
        below = b.top >= lb.bottom - 4 and b.left < lb.right and b.right > lb.left
        if right:
            d = float(b.left - lb.right)
        elif below:
            d = float(b.top - lb.bottom)
        else:
            continue
        if d < best_d:
            best, best_d = n, d
    return best


CHECKABLE_ROLES = frozenset({"check box", "check menu item", "radio button", "radio menu item",
                             "toggle button"})  # fmt: skip


def checkable_beside(view: TreeView, label: Box, reach: int = 60) -> tuple[Node, Box] | None:
    """An unnamed check box (or radio button) on the label's row just left or right of it: a
    check box whose text is a separate node (a web page without <label>)."""
    best: tuple[Node, Box] | None = None
    best_d = float(reach)
    cy = label.center[1]
    for n in view.visible():
        box = view.box(n)
        if box is None or n.name.strip() or not (n.role in CHECKABLE_ROLES or "checkable" in n.states):
            continue  # a named check box is found by its own name, never by a neighbour's
        if not box.y1 - 4 <= cy <= box.y2 + 4:
            continue
        d = float(label.x1 - box.x2) if box.x2 <= label.x1 + 2 else float(box.x1 - label.x2)
        if -2 <= d < best_d:
            best, best_d = (n, box), d
    return best
