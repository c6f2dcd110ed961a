"""Pure unit tests of the accessibility grounder: decoding AT-SPI values, matching names and
roles on a snapshot given as data, the fused chain's order, the new step verbs' grammar, and
findings made exact by a dialog node. The real trees (GTK, Qt, Chromium on the virtual
desktop) are in `test_a11y.py`.

Enum values are AT-SPI's (at-spi2-core ``atspi/atspi-constants.h``: AtspiRole, AtspiStateType,
AtspiRelationType), checked against Debian 12's gir1.2-atspi-2.0 typelib.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw
from test_grounding_unit import FixedOcr, line

from screenagent.a11y.atspi import ROLES, STATES, role_name, state_names
from screenagent.a11y.reader import TreeReader, TreeView
from screenagent.a11y.tree import Node, Snapshot
from screenagent.errors import ConfigError
from screenagent.findings.model import Finding
from screenagent.findings.tree import refine_with_tree
from screenagent.geometry import Box, Rect
from screenagent.grounding import (
    AmbiguousTarget,
    GroundedBy,
    Grounder,
    TargetNotFound,
    parse_target,
)
from screenagent.grounding.image import field_beside
from screenagent.grounding.roles import checkable_beside, name_score
from screenagent.steps import model as m
from screenagent.steps.text import parse_step
from screenagent.testing.spec import parse_step as parse_yaml_step

IMAGE = Image.new("RGB", (800, 600), "white")


def node(i: int, role: str, name: str, box: tuple[int, int, int, int] | None, *, parent: int | None = 0,
         states: tuple[str, ...] = ("showing", "visible", "enabled"), **kw: object) -> Node:  # fmt: skip
    rect = Rect(left=box[0], top=box[1], width=box[2], height=box[3]) if box else None
    return Node(index=i, ref=(":1.1", f"/n/{i}"), role=role, name=name, states=frozenset(states),
                box=rect, parent=parent, depth=0 if parent is None else 1, app="app", window=0, **kw)  # type: ignore[arg-type]  # fmt: skip


def snapshot(*nodes: Node) -> Snapshot:
    snap = Snapshot(nodes=list(nodes))
    for n in snap.nodes:
        if n.parent is not None:
            snap.nodes[n.parent].children.append(n.index)
    return snap


class StaticTree:
    """A TreeReader stand-in that answers one snapshot mapped 1:1 (no bus, no windows)."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def view(self, image: Image.Image) -> TreeView:
        view = TreeView(snapshot=self.snap)
        for n in self.snap.nodes:
            if n.box is not None:
                view.boxes[n.index] = Box(x1=n.box.left, y1=n.box.top, x2=n.box.right, y2=n.box.bottom)
        return view


CALC = snapshot(
    node(0, "frame", "galculator", (0, 0, 400, 400), parent=None),
    node(1, "toggle button", "=", (267, 315, 59, 74)),
    node(2, "toggle button", "+", (202, 355, 59, 34)),
    node(3, "toggle button", "%", (267, 275, 59, 34)),
    node(4, "label", "Save", (20, 20, 40, 20)),
    node(5, "push button", "Save", (100, 20, 60, 30)),
    node(6, "label", "Full name", (20, 100, 80, 20)),
    node(7, "entry", "", (20, 125, 200, 24), states=("showing", "editable", "enabled")),
    node(8, "label", "City:", (20, 170, 40, 20)),
    node(9, "entry", "", (70, 168, 150, 24), states=("showing", "editable"), labelled_by=(8,)),
    node(10, "heading", "Thanks", (20, 220, 200, 40)),
    node(11, "static", "Thanks", (20, 220, 90, 40), parent=10),
    node(12, "check box", "", (20, 280, 14, 14), states=("showing", "checkable")),
    node(13, "static", "I agree to the terms", (40, 277, 180, 20)),
)


def test_enum_tables_match_atspi_constants() -> None:
    assert len(ROLES) == 130 and ROLES[62] == "toggle button" and ROLES[79] == "entry"
    assert role_name(43) == "push button" and role_name(999) == "role 999"
    assert STATES[25] == "showing" and STATES[41] == "checkable"
    # GetState answers two 32-bit words: bit 4 checked, bit 25 showing, bit 33 (word 2) required
    assert state_names([(1 << 4) | (1 << 25), 1 << 1]) == {"checked", "showing", "required"}


def test_role_qualifiers_parse_and_an_unknown_role_lists_the_roles() -> None:
    assert (parse_target("button:Save").role, parse_target("button:Save").value) == ("button", "Save")
    assert parse_target("list item: Inbox").role == "listitem"
    assert parse_target("check box:I agree").role == "checkbox"
    t = parse_target("menuitem:Save As… #2")
    assert (t.role, t.value, t.nth) == ("menuitem", "Save As…", 2)
    assert parse_target("Lines: 1").role is None  # text with a colon stays text
    assert parse_target("http://example.org").role is None
    assert parse_target('"buton:Save"').role is None  # quoted: the text itself
    with pytest.raises(ConfigError) as err:
        parse_target("buton:Save")
    assert "'buton'" in str(err.value) and "button, checkbox" in str(err.value)


def test_short_targets_never_match_fuzzily() -> None:
    assert name_score("=", "=") == 1.0
    assert name_score("=", "+") == 0.0 and name_score("=", "%") == 0.0
    assert name_score("OK", "Book") == 0.0 and name_score("OK", "OK Cancel") > 0.8
    assert name_score("Save", "Sav") > 0  # longer targets keep the fuzzy match
    # OCR too: '=' is not matched inside "a=b" nor fuzzily to '+'
    g = Grounder(FixedOcr([line("+", 10, 10), line("a=b", 100, 10), line("%", 200, 10)]), second_look=1)
    with pytest.raises(TargetNotFound):
        g.locate("=", IMAGE)


def test_the_tree_answers_first_and_prefers_interactive_nodes() -> None:
    ocr = FixedOcr([line("+", 210, 360)])
    g = Grounder(ocr, tree=StaticTree(CALC), second_look=1)
    eq = g.locate("=", IMAGE)
    assert (eq.grounded_by, eq.role, eq.box.as_list()) == (GroundedBy.TREE, "toggle button", [267, 315, 326, 389])
    assert ocr.calls == 0, "OCR is not asked when the tree answers"
    save = g.locate("Save", IMAGE)
    assert save.role == "push button", "the button wins over a label of the same name"
    assert g.locate("label:Save", IMAGE).role == "label"
    assert g.locate("button:+", IMAGE).x == 231
    # a heading and the text inside it are one thing, not two equal matches
    assert g.locate("Thanks", IMAGE).role == "static"


def test_field_targets_use_labels_relations_and_layout() -> None:
    g = Grounder(FixedOcr([]), tree=StaticTree(CALC), second_look=1)
    above = g.locate("field:Full name", IMAGE)
    assert (above.role, above.box.as_list()) == ("entry", [20, 125, 220, 149])  # label above it
    related = g.locate("field:City", IMAGE)
    assert related.box.x1 == 70, "the labelled-by relation names the field"
    with pytest.raises(TargetNotFound):
        g.locate("button:Full name", IMAGE)


def test_without_a_tree_a_role_falls_back_to_text_and_says_so() -> None:
    g = Grounder(FixedOcr([line("Save", 100, 50)]), second_look=1)
    found = g.locate("button:Save", IMAGE)
    assert found.grounded_by is GroundedBy.OCR and "not checked" in found.notes[0]


def test_tree_and_ocr_agreement_is_recorded_when_ocr_read_the_frame() -> None:
    from screenagent.ocr import CachedOcr

    ocr = CachedOcr(FixedOcr([line("Save", 110, 25), line("Save", 400, 300)]))
    g = Grounder(ocr, tree=StaticTree(CALC), second_look=1)
    assert g.locate("Save", IMAGE).agreement is None, "no OCR pass just to compare"
    ocr.read(IMAGE)
    assert g.locate("Save", IMAGE).agreement == "agree"
    ocr2 = CachedOcr(FixedOcr([line("Save", 500, 500)]))
    ocr2.read(IMAGE)
    far = Grounder(ocr2, tree=StaticTree(CALC), second_look=1).locate("button:Save", IMAGE)
    assert far.agreement is not None and far.agreement.startswith("disagree")


def test_ambiguous_tree_matches_list_their_roles() -> None:
    two = snapshot(node(0, "frame", "w", (0, 0, 400, 400), parent=None),
                   node(1, "menu item", "File", (0, 0, 30, 20)), node(2, "menu", "File", (100, 0, 30, 20)))  # fmt: skip
    g = Grounder(FixedOcr([]), tree=StaticTree(two), second_look=1)
    with pytest.raises(AmbiguousTarget) as err:
        g.locate("File", IMAGE)
    assert "menu item 'File'" in str(err.value) and "menu 'File'" in str(err.value)
    assert g.locate("menu:File", IMAGE).x == 115


def test_a_checkbox_without_a_name_is_found_beside_its_text() -> None:
    view = StaticTree(CALC).view(IMAGE)
    found = checkable_beside(view, view.boxes[13])
    assert found is not None and found[0].index == 12


def test_an_unavailable_tree_is_said_once_and_ocr_answers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import screenagent.a11y.reader as reader_module

    monkeypatch.setattr(reader_module, "_SAID", set())
    reader = TreeReader(session_bus="unix:path=/nonexistent/bus")
    g = Grounder(FixedOcr([line("Save", 100, 50)]), tree=reader, second_look=1)
    assert g.locate("Save", IMAGE).grounded_by is GroundedBy.OCR
    assert g.locate("Save", IMAGE).grounded_by is GroundedBy.OCR
    err = capsys.readouterr().err
    assert err.count("no accessibility tree") == 1 and "OCR" in err


def test_snapshot_renders_one_line_per_useful_node_and_json() -> None:
    text = CALC.render()
    assert "toggle button '='" in text and "@ 267,315 59x74" in text
    assert "entry (editable)" in text
    data = CALC.to_json()
    assert data["nodes"][1]["role"] == "toggle button" and data["nodes"][1]["box"] == [267, 315, 59, 74]


def test_new_verbs_in_task_text_and_yaml() -> None:
    assert isinstance(parse_step("check I agree to the terms"), m.CheckStep)
    assert isinstance(parse_step("uncheck 'Remember me'"), m.UncheckStep)
    sel = parse_step("select London in City")
    assert isinstance(sel, m.SelectStep) and (sel.option, sel.in_) == ("London", "City")
    assert isinstance(parse_step("expect Remember me is checked"), m.ExpectCheckedStep)
    assert isinstance(parse_step("verify Remember me is unchecked"), m.ExpectUncheckedStep)
    val = parse_step('expect field:Name contains "Ada"')
    assert isinstance(val, m.ExpectValueStep) and (val.how, val.wanted) == ("contains", "Ada")
    assert isinstance(parse_step("check that Save is visible"), m.ExpectVisibleStep)
    y = parse_yaml_step({"select": "London", "in": "City"}, "t.yaml:3")
    assert isinstance(y, m.SelectStep) and y.in_ == "City"
    assert isinstance(parse_yaml_step({"expect_value": "Name", "equals": "Ada"}, "x"), m.ExpectValueStep)
    with pytest.raises(ValueError, match="exactly one of equals"):
        parse_yaml_step({"expect_value": "Name"}, "x")
    with pytest.raises(ValueError, match="buton"):
        parse_yaml_step({"check": "buton:Save"}, "x")


def test_a_dialog_node_makes_an_error_finding_exact() -> None:
    snap = snapshot(
        node(0, "alert", "Error", (100, 100, 300, 150), parent=None),
        node(1, "label", "Could not open “notes.txt”: permission denied", (120, 130, 260, 20)),
        node(2, "push button", "OK", (300, 210, 80, 30)),
    )
    ocr_finding = Finding(kind="dialog", title="Errr", message="Could not opn notes", buttons=["0K"],
                          box=[100, 100, 400, 250], severity="error", source="ocr")  # fmt: skip
    banner = Finding(kind="banner", message="Warning: low disk", box=[0, 0, 50, 10], severity="warning",
                     source="ocr")  # fmt: skip
    out = refine_with_tree([ocr_finding, banner], StaticTree(snap).view(IMAGE))
    assert (out[0].title, out[0].buttons, out[0].source) == ("Error", ["OK"], "tree")
    assert out[0].message == "Could not open “notes.txt”: permission denied"
    assert out[1] == banner


def test_a_label_above_its_field_finds_the_field_by_pixels() -> None:
    """The OCR fallback of field: on pixel-only screens (Tk): a label with its entry below,
    and the next label further down must not be taken for a field."""
    img = Image.new("RGB", (400, 300), (217, 217, 217))
    d = ImageDraw.Draw(img)
    d.text((20, 20), "Full name", fill="black")
    d.rectangle((20, 40, 260, 64), fill="white", outline=(120, 120, 120))
    d.text((20, 90), "City", fill="black")
    label = Box(x1=20, y1=20, x2=75, y2=32)
    x, y = field_beside(img, label)  # type: ignore[misc]
    assert 40 < y < 64 and 20 < x < 260
    # a label left of its field still goes right
    img2 = Image.new("RGB", (400, 100), (217, 217, 217))
    d2 = ImageDraw.Draw(img2)
    d2.text((20, 40), "Name", fill="black")
    d2.rectangle((120, 32, 380, 58), fill="white", outline=(120, 120, 120))
    d2.text((20, 80), "Email", fill="black")
    x2, y2 = field_beside(img2, Box(x1=20, y1=40, x2=50, y2=52))  # type: ignore[misc]
    assert x2 > 120 and 32 < y2 < 58


def test_a_grounding_model_gets_role_targets_in_words() -> None:
    from screenagent.grounding.roles import in_words

    assert in_words("button:Save") == "the 'Save' button"
    assert in_words("field:Full name") == "the text field labelled 'Full name'"
    assert in_words("Save") == "Save" and in_words("button:OK near Cancel") == "button:OK near Cancel"


def test_a_cut_tree_is_noted_in_the_grounding() -> None:
    snap = snapshot(node(0, "frame", "w", (0, 0, 400, 400), parent=None), node(1, "push button", "OK", (10, 10, 40, 20)))
    snap.cut = "nodes: the limit of 2 was reached"
    g = Grounder(FixedOcr([]), tree=StaticTree(snap), second_look=1).locate("OK", IMAGE)
    assert g.grounded_by is GroundedBy.TREE and any("cut" in n for n in g.notes)


def test_a_kept_message_differs_from_a_fresh_one_only_in_its_serial() -> None:
    """The bus keeps each call's bytes and writes the serial into bytes 8-12 (the D-Bus
    header: endianness, type, flags, version, body length, serial)."""
    jeepney = pytest.importorskip("jeepney")
    from screenagent.a11y.atspi import AtspiBus

    call = ((":1.7", "/org/a11y/atspi/accessible/12"), "org.freedesktop.DBus.Properties", "Get", "ss",
            ("org.a11y.atspi.Accessible", "Name"))  # fmt: skip
    bus = AtspiBus("unix:path=/nonexistent")
    for serial in (1, 77, 70000):
        fresh = jeepney.new_method_call(
            jeepney.DBusAddress(call[0][1], bus_name=call[0][0], interface=call[1]), call[2], call[3], call[4]
        ).serialise(serial=serial)
        assert bus._message(call, serial) == fresh  # type: ignore[arg-type]


def test_a_plain_dialog_or_a_file_chooser_is_no_error_by_the_trees_words() -> None:
    """OCR may take a dialog for an error by its look (an icon); the toolkit's own words decide."""
    snap = snapshot(
        node(0, "dialog", "Save As", (100, 100, 600, 400), parent=None),
        node(1, "file chooser", "File Chooser Widget", (110, 130, 580, 330)),
        node(2, "dialog", "Preferences", (700, 100, 300, 200), parent=None),
        node(3, "label", "Show line numbers", (710, 130, 200, 20), parent=2),
    )
    view = StaticTree(snap).view(IMAGE)
    looks = [Finding(kind="dialog", title="Save As", message="Name:", box=[100, 100, 700, 500],
                     severity="error", source="window"),
             Finding(kind="dialog", title="Preferences", message="Show line numbers", box=[700, 100, 1000, 300],
                     severity="error", source="window")]  # fmt: skip
    assert refine_with_tree(looks, view) == []
