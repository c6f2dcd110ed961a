"""A snapshot of the showing part of the accessibility tree: nodes with role, name, states,
value, actions and box, read level by level in pipelined batches and bounded in depth, node
count and time (a cut snapshot says where it was cut)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..geometry import Rect
from .atspi import (
    ACCESSIBLE,
    ACTION,
    COMPONENT,
    COORD_SCREEN,
    LABEL_FOR,
    LABELLED_BY,
    PROPERTIES,
    REGISTRY,
    SHOWING_BIT,
    TEXT,
    VALUE,
    AtspiBus,
    Call,
    Ref,
    role_name,
    state_names,
)

CONTAINERS = frozenset({
    "application", "frame", "window", "dialog", "alert", "file chooser", "panel", "filler",
    "scroll pane", "viewport", "layered pane", "root pane", "split pane", "tool bar",
    "menu bar", "page tab list", "document frame", "document web", "document text", "section",
    "form", "grouping", "internal frame", "table", "tree", "tree table", "list", "list box",
    "redundant object", "unknown", "invalid", "option pane", "popup menu", "glass pane",
    "html container", "landmark", "article", "status bar", "info bar", "notification",
    "table row", "embedded", "canvas", "drawing area", "separator", "scroll bar",
})  # fmt: skip
"""Roles that hold others: never the answer to a plain text target (their box is an area)."""

INTERACTIVE = frozenset({
    "push button", "toggle button", "push button menu", "check box", "radio button",
    "menu", "menu item", "check menu item", "radio menu item", "tearoff menu item",
    "combo box", "entry", "password text", "spin button", "slider", "link", "page tab",
    "list item", "tree item", "dial", "date editor", "terminal",
})  # fmt: skip
"""Roles a person acts on (plus any node whose state says editable)."""

VALUE_ROLES = frozenset({"entry", "text", "spin button", "combo box", "terminal", "paragraph"})
"""Roles whose text is their value (read through the Text interface)."""

WINDOW_ROLES = frozenset({"frame", "window", "dialog", "alert", "file chooser"})


@dataclass
class Node:
    """One accessible object that is showing.

    Attributes:
        index: Its place in the snapshot (parents come before their children).
        box: Its extents in screen coordinates (None when it has none, or none on the screen).
        value: A text widget's text (None for others, and for password fields).
        window: The index of the top-level window node (frame, dialog...) it belongs to.
    """

    index: int
    ref: Ref
    role: str
    name: str
    states: frozenset[str]
    box: Rect | None
    parent: int | None
    depth: int
    app: str = ""
    window: int | None = None
    description: str = ""
    value: str | None = None
    actions: tuple[str, ...] = ()
    labelled_by: tuple[int, ...] = ()
    label_for: tuple[int, ...] = ()
    children: list[int] = field(default_factory=list)

    @property
    def interactive(self) -> bool:
        return self.role in INTERACTIVE or "editable" in self.states

    @property
    def editable(self) -> bool:
        return "editable" in self.states or self.role in ("entry", "password text", "spin button")

    @property
    def checkable(self) -> bool:
        return "checkable" in self.states or self.role in (
            "check box", "check menu item", "radio button", "radio menu item", "toggle button",
        )  # fmt: skip

    @property
    def checked(self) -> bool:
        return "checked" in self.states or "pressed" in self.states

    def state_words(self) -> list[str]:
        """The states worth showing (the usual ones, showing/visible/enabled, left out)."""
        shown = ("focused", "checked", "pressed", "selected", "expanded", "editable",
                 "read-only", "required", "invalid-entry", "modal")  # fmt: skip
        words = [s for s in shown if s in self.states]
        if "enabled" not in self.states and "sensitive" not in self.states and self.interactive:
            words.append("disabled")
        return words

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "role": self.role, "name": self.name,
            "description": self.description or None, "states": sorted(self.states),
            "value": self.value, "actions": list(self.actions),
            "box": [self.box.left, self.box.top, self.box.width, self.box.height] if self.box else None,
            "parent": self.parent, "depth": self.depth, "app": self.app, "window": self.window,
            "labelled_by": list(self.labelled_by),
        }  # fmt: skip


@dataclass
class Limits:
    """Bounds of one snapshot: tree depth, nodes kept, and seconds spent."""

    depth: int = 40
    nodes: int = 3000
    seconds: float = 2.0


@dataclass
class Snapshot:
    """The showing part of the tree at one moment."""

    nodes: list[Node]
    apps: list[tuple[str, int | None]] = field(default_factory=list)
    """(application name, process ID) for each application on the bus."""
    seconds: float = 0.0
    cut: str | None = None
    """Why the walk stopped early (depth, node count, time), or None for a whole tree."""
    warnings: list[str] = field(default_factory=list)
    taken_at: float = field(default_factory=time.monotonic)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def window_of(self, node: Node) -> Node | None:
        return self.nodes[node.window] if node.window is not None else None

    def labels_of(self, node: Node) -> list[Node]:
        return [self.nodes[i] for i in node.labelled_by]

    def interactive(self) -> list[Node]:
        return [n for n in self.nodes if n.interactive and n.box is not None]

    def in_tree_order(self) -> list[Node]:
        """Depth first, each application's nodes together (the snapshot is read level by
        level, so its index order interleaves applications)."""
        out: list[Node] = []
        stack = [n.index for n in reversed(self.nodes) if n.parent is None]
        while stack:
            node = self.nodes[stack.pop()]
            out.append(node)
            stack.extend(reversed(node.children))
        return out

    def of_app(self, app: str | None) -> list[Node]:
        """The nodes in tree order, only those of applications whose name contains ``app``."""
        nodes = self.in_tree_order()
        if app:
            nodes = [n for n in nodes if app.casefold() in n.app.casefold()
                     or (n.role == "application" and app.casefold() in n.name.casefold())]  # fmt: skip
        return nodes

    def render(self, *, everything: bool = False, app: str | None = None) -> str:
        """One line per node (interactive, windows, named labels; ``everything``: all),
        indented by depth: ``[index] role "name" (states) = value @ x,y wxh``."""
        lines = []
        for n in self.of_app(app):
            if not everything and not (
                n.interactive or n.role in WINDOW_ROLES or n.role == "application"
                or (n.name and n.role in ("label", "static", "heading", "text", "status bar"))
            ):  # fmt: skip
                continue
            parts = [f"[{n.index}]", n.role]
            if n.name:
                parts.append(_quote(n.name))
            states = n.state_words()
            if states:
                parts.append("(" + ", ".join(states) + ")")
            if n.value is not None and n.value != n.name:
                parts.append("= " + _quote(n.value))
            if n.box is not None:
                b = n.box
                parts.append(f"@ {b.left},{b.top} {b.width}x{b.height}")
            lines.append("  " * min(n.depth, 12) + " ".join(parts))
        if self.cut:
            lines.append(f"… cut: {self.cut}")
        return "\n".join(lines)

    def to_json(self, app: str | None = None) -> dict[str, Any]:
        return {
            "apps": [{"name": a, "pid": p} for a, p in self.apps],
            "nodes": [n.to_json() for n in (self.of_app(app) if app else self.nodes)],
            "seconds": round(self.seconds, 4),
            "cut": self.cut,
            "warnings": self.warnings,
        }


def _quote(text: str, limit: int = 80) -> str:
    one = " ".join(text.split())
    return repr(one if len(one) <= limit else one[: limit - 1] + "…")


def _ok(reply: Any) -> bool:
    return not isinstance(reply, Exception)


def _box(extents: Any) -> Rect | None:
    if not _ok(extents):
        return None
    x, y, w, h = extents[0]
    if w <= 0 or h <= 0 or x <= -(2**30) or y <= -(2**30):
        return None
    return Rect(left=int(x), top=int(y), width=int(w), height=int(h))


Pending = tuple[Ref, "int | None", int, str, "int | None"]
"""A node to read: (its ref, its parent's index, depth, application name, window index)."""


def read_snapshot(
    bus: AtspiBus,
    *,
    limits: Limits | None = None,
    pids: Sequence[int] | None = None,
) -> Snapshot:
    """Walk every application's showing nodes (only those of ``pids`` when given).

    Each level is one batch of calls (role, states, name, children, extents per node); then
    one batch of details for the nodes that matter (interactive, text, labels): description,
    actions, text value, and the labelled-by relation.
    """
    limits = limits or Limits()
    start = time.monotonic()
    deadline = start + limits.seconds
    snap = Snapshot(nodes=[])
    apps_reply = bus.batch([(REGISTRY, ACCESSIBLE, "GetChildren", None, ())], deadline=deadline)[0]
    if not _ok(apps_reply):
        snap.warnings.append(f"the accessibility registry did not answer: {apps_reply}")
        snap.seconds = time.monotonic() - start
        return snap
    app_refs: list[Ref] = [tuple(r) for r in apps_reply[0]]
    app_pids = bus.pid_of([b for b, _ in app_refs])
    if pids is not None:
        wanted = set(pids)
        app_refs = [r for r in app_refs if app_pids.get(r[0]) in wanted]
    frontier: list[Pending] = [(r, None, 0, "", None) for r in app_refs]
    silent: set[str] = set()
    while frontier:
        if time.monotonic() >= deadline:
            snap.cut = f"time: {limits.seconds:g} s spent, {len(frontier)} nodes not read"
            break
        # states first: most children of a long list or page are not showing, and those cost
        # one call instead of five
        states = bus.batch([(ref, ACCESSIBLE, "GetState", None, ()) for ref, *_ in frontier],
                           deadline=min(deadline, time.monotonic() + bus.timeout))  # fmt: skip
        kept = [(p, st) for p, st in zip(frontier, states, strict=True) if _showing(p, st, snap, silent, bus.timeout)]
        calls: list[Call] = []
        for (ref, *_), _ in kept:
            calls += [(ref, ACCESSIBLE, "GetRole", None, ()),
                      (ref, PROPERTIES, "Get", "ss", (ACCESSIBLE, "Name")),
                      (ref, ACCESSIBLE, "GetChildren", None, ()),
                      (ref, COMPONENT, "GetExtents", "u", (COORD_SCREEN,))]  # fmt: skip
        replies = bus.batch(calls, deadline=min(deadline, time.monotonic() + bus.timeout))
        frontier = _level(snap, kept, replies, limits, app_pids)
    _details(bus, snap, deadline)
    snap.seconds = time.monotonic() - start
    return snap


def _showing(pending: Pending, state: Any, snap: Snapshot, silent: set[str], timeout: float) -> bool:
    """Whether a node is worth reading: showing (an application always is); a silent
    application is noted once."""
    ref, parent = pending[0], pending[1]
    if not _ok(state):
        if isinstance(state, TimeoutError) and ref[0] not in silent:
            silent.add(ref[0])
            snap.warnings.append(f"the application at {ref[0]} did not answer within {timeout:g} s "
                                 "(busy or hung): its nodes are missing")  # fmt: skip
        return False  # or the object went away
    words = state[0]
    return parent is None or bool(words and words[0] & (1 << SHOWING_BIT))


def _level(snap: Snapshot, kept: list[tuple[Pending, Any]], replies: list[Any], limits: Limits,
           app_pids: dict[str, int]) -> list[Pending]:  # fmt: skip
    """Add one level's showing nodes to the snapshot; the next level to read."""
    nxt: list[Pending] = []
    for k, ((ref, parent, depth, app, window), state_r) in enumerate(kept):
        role_r, name_r, kids_r, ext_r = replies[4 * k : 4 * k + 4]
        if not _ok(role_r):
            continue  # the object went away
        role = role_name(int(role_r[0]))
        if len(snap.nodes) >= limits.nodes:
            snap.cut = f"nodes: the limit of {limits.nodes} was reached"
            return []
        name = str(name_r[0][1]) if _ok(name_r) else ""
        index = len(snap.nodes)
        if role == "application":
            app = name
            snap.apps.append((name, app_pids.get(ref[0])))
        elif window is None and role in WINDOW_ROLES:
            window = index
        node = Node(index=index, ref=ref, role=role, name=name, states=state_names(state_r[0]),
                    box=_box(ext_r), parent=parent, depth=depth, app=app, window=window)  # fmt: skip
        snap.nodes.append(node)
        if parent is not None:
            snap.nodes[parent].children.append(index)
        if not _ok(kids_r) or not kids_r[0]:
            continue
        if depth + 1 > limits.depth:
            snap.cut = f"depth: nodes deeper than {limits.depth} levels were left out"
            continue
        nxt += [(tuple(c), index, depth + 1, app, window) for c in kids_r[0]]
    return nxt


def _details(bus: AtspiBus, snap: Snapshot, deadline: float) -> None:
    """Description, actions, text value and label relations for the nodes that need them."""
    wanted = [n for n in snap.nodes if n.interactive or n.role in VALUE_ROLES or n.role == "label"]
    calls: list[Call] = []
    plan: list[tuple[Node, str]] = []
    for n in wanted:
        calls.append((n.ref, PROPERTIES, "Get", "ss", (ACCESSIBLE, "Description")))
        plan.append((n, "description"))
        calls.append((n.ref, ACCESSIBLE, "GetRelationSet", None, ()))
        plan.append((n, "relations"))
        if n.interactive:
            calls.append((n.ref, ACTION, "GetActions", None, ()))
            plan.append((n, "actions"))
        if n.role == "password text":
            continue
        if n.role in VALUE_ROLES or n.editable:
            calls.append((n.ref, TEXT, "GetText", "ii", (0, -1)))
            plan.append((n, "text"))
        elif n.role in ("slider", "spin button", "progress bar", "level bar"):
            calls.append((n.ref, PROPERTIES, "Get", "ss", (VALUE, "CurrentValue")))
            plan.append((n, "number"))
    by_ref = {n.ref: n.index for n in snap.nodes}
    replies = bus.batch(calls, deadline=max(deadline, time.monotonic() + 0.5))
    _apply_details(snap, plan, replies, by_ref)
    combos = [n for n in snap.nodes if n.role == "combo box" and not (n.value or "").strip("\ufffc ")]
    if combos:
        _combo_choices(bus, combos, max(deadline, time.monotonic() + 0.5))


def _combo_choices(bus: AtspiBus, combos: list[Node], deadline: float) -> None:
    """A combo box that shows no text of its own (a web page's <select> answers an object
    character): its value is the name of its selected option, two levels down (the popup,
    then its items), read whether or not the popup is open."""
    kids = bus.batch([(n.ref, ACCESSIBLE, "GetChildren", None, ()) for n in combos], deadline=deadline)
    owners: list[tuple[Node, Ref]] = [(n, tuple(c)) for n, r in zip(combos, kids, strict=True)
                                      if _ok(r) for c in r[0]]  # fmt: skip
    for _ in range(2):  # the items, then the items of a popup
        calls: list[Call] = []
        for _, ref in owners:
            calls += [(ref, ACCESSIBLE, "GetState", None, ()),
                      (ref, PROPERTIES, "Get", "ss", (ACCESSIBLE, "Name")),
                      (ref, ACCESSIBLE, "GetChildren", None, ())]  # fmt: skip
        replies = bus.batch(calls, deadline=deadline)
        deeper: list[tuple[Node, Ref]] = []
        for k, (combo, _) in enumerate(owners):
            state_r, name_r, kids_r = replies[3 * k : 3 * k + 3]
            chosen = _ok(state_r) and _ok(name_r) and "selected" in state_names(state_r[0])
            if chosen and not (combo.value or "").strip("\ufffc "):
                combo.value = str(name_r[0][1])
            if _ok(kids_r):
                deeper += [(combo, tuple(c)) for c in kids_r[0]]
        owners = deeper[:500]


def _apply_details(snap: Snapshot, plan: list[tuple[Node, str]], replies: list[Any],
                   by_ref: dict[Ref, int]) -> None:  # fmt: skip
    for (n, what), reply in zip(plan, replies, strict=True):
        if not _ok(reply):
            continue
        if what == "description":
            n.description = str(reply[0][1])
        elif what == "actions":
            n.actions = tuple(str(a[0]) for a in reply[0])
        elif what == "text":
            n.value = str(reply[0])
        elif what == "number":
            n.value = f"{float(reply[0][1]):g}"
        elif what == "relations":
            for kind, targets in reply[0]:
                found = tuple(by_ref[tuple(t)] for t in targets if tuple(t) in by_ref)
                if kind == LABELLED_BY:
                    n.labelled_by = found
                elif kind == LABEL_FOR:
                    n.label_for = found
