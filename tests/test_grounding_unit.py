"""Pure unit tests of target parsing, text matching and the step grammar (no OCR, no display):
OCR output is given as data, the way an engine returns it."""

from __future__ import annotations

import pytest
from PIL import Image

from screenagent.errors import ConfigError
from screenagent.geometry import Box
from screenagent.grounding import (
    AmbiguousTarget,
    Grounder,
    TargetNotFound,
    normalize,
    parse_target,
    similarity,
)
from screenagent.ocr import CachedOcr, OcrLine, OcrWord
from screenagent.steps.model import TypeStep
from screenagent.steps.text import parse_step, parse_task


def line(text: str, x: int, y: int, char_w: int = 8, h: int = 20) -> OcrLine:
    """An OCR line with one word box per space-separated word, 8 px per character."""
    words, cx = [], x
    for w in text.split(" "):
        words.append(
            OcrWord(text=w, box=Box(x1=cx, y1=y, x2=cx + char_w * len(w), y2=y + h), score=0.99)
        )
        cx += char_w * (len(w) + 1)
    return OcrLine(
        text=text,
        box=Box(x1=x, y1=y, x2=x + char_w * len(text), y2=y + h),
        score=0.99,
        words=tuple(words),
    )


class FixedOcr:
    name = "fixed"

    def __init__(self, lines: list[OcrLine]) -> None:
        self.lines = lines
        self.calls = 0

    def read(self, image: Image.Image, *, scale: float = 1.0) -> list[OcrLine]:
        self.calls += 1
        return self.lines if scale == 1.0 else []


SCREEN = [
    line("File Help", 0, 0),
    line("Save", 100, 50),
    line("Save As…", 100, 80),
    line("Subscribe to news", 300, 50),
    line("Name", 20, 120),
    line("Email", 20, 160),
    line("Item 01", 500, 100),
    line("Item 02", 500, 120),
    line("Item 03", 500, 140),
    line("Thank you, Ada! Your form was submitted.", 20, 300),
    line("Café Crème", 20, 340),
]
IMAGE = Image.new("RGB", (800, 400), "white")


@pytest.fixture
def g() -> Grounder:
    return Grounder(FixedOcr(SCREEN))


def test_exact_beats_a_longer_line(g: Grounder) -> None:
    found = g.locate("Save", IMAGE)
    assert (found.text, found.box.y1, found.score) == ("Save", 50, 1.0)
    assert g.locate('"Save As…"', IMAGE).box.y1 == 80
    assert g.locate("text:Save As…", IMAGE).box.y1 == 80


def test_case_accents_and_punctuation_are_tolerated(g: Grounder) -> None:
    assert g.locate("save", IMAGE).score == 0.97
    assert g.locate("Save As...", IMAGE).box.y1 == 80  # "…" vs "..."
    assert g.locate("cafe creme", IMAGE).box.y1 == 340


def test_a_word_inside_a_longer_line_gets_its_own_box(g: Grounder) -> None:
    news = g.locate("news", IMAGE)
    assert news.box == Box(x1=300 + 8 * 13, y1=50, x2=300 + 8 * 17, y2=70)
    help_ = g.locate("Help", IMAGE)
    assert help_.box.x1 == 40 and help_.x > 40
    # a part of a word: estimated by character share inside the word box
    sub = g.locate("Subscr", IMAGE)
    assert sub.box.x1 == 300 and sub.box.x2 == 300 + 48


def test_fuzzy_match_tolerates_ocr_slips(g: Grounder) -> None:
    found = g.locate("Emial", IMAGE)
    assert found.text == "Email" and 0.5 < found.score < 0.9


def test_regex(g: Grounder) -> None:
    assert g.locate("regex:Item 0[3-9]", IMAGE).box.y1 == 140
    with pytest.raises(AmbiguousTarget):
        g.locate("regex:Item \\d+", IMAGE)


def test_ambiguous_lists_candidates_in_reading_order(g: Grounder) -> None:
    with pytest.raises(AmbiguousTarget) as err:
        g.locate("Item", IMAGE)
    msg = str(err.value)
    assert "'Item' matches 3 places equally well" in msg
    assert msg.index("#1 'Item' at (516, 110)") < msg.index("#2 'Item' at (516, 130)")
    assert "Add #N" in msg
    assert len(err.value.candidates) == 3


def test_nth_picks_in_reading_order(g: Grounder) -> None:
    assert g.locate("Item #2", IMAGE).box.y1 == 120
    assert g.locate("Item #-1", IMAGE).box.y1 == 140
    with pytest.raises(TargetNotFound, match="asked for match #5, but there are 3"):
        g.locate("Item #5", IMAGE)


def test_relations(g: Grounder) -> None:
    assert g.locate("Item below Item 01", IMAGE).box.y1 == 120
    assert g.locate("Item above Item 03", IMAGE).box.y1 == 120
    assert g.locate("Save near Name", IMAGE).box.y1 == 50
    assert g.locate("Email below Name", IMAGE).text == "Email"
    assert g.locate("Name above Email", IMAGE).text == "Name"
    assert g.locate("Item in 490,135,100,40", IMAGE).box.y1 == 140
    with pytest.raises(TargetNotFound, match="none left of"):
        g.locate("Item left of Name", IMAGE)


def test_not_found_names_the_closest(g: Grounder) -> None:
    with pytest.raises(TargetNotFound) as err:
        g.locate("Preferences", IMAGE)
    assert "No text matching 'Preferences' on the screen. Closest:" in str(err.value)
    assert "score" in str(err.value)


def test_cached_ocr_reads_each_screen_once() -> None:
    engine = FixedOcr(SCREEN)
    cached = CachedOcr(engine)
    g = Grounder(cached)
    for t in ("Save", "news", "Email", "Item #2"):
        g.locate(t, IMAGE)
    assert engine.calls == 1
    g.locate("Save", IMAGE.copy())  # a new capture of the same pixels
    assert engine.calls == 1
    g.locate("Save", Image.new("RGB", (800, 400), "gray"))
    assert engine.calls == 2


@pytest.mark.parametrize(
    ("text", "kind", "value", "nth", "relation"),
    [
        ("Save", "text", "Save", None, None),
        ('"Log in"', "text", "Log in", None, None),
        ("text:Save #2", "text", "Save", 2, None),
        ("regex:Sav(e|ing)", "regex", "Sav(e|ing)", None, None),
        ("image:icons/gear.png", "image", "icons/gear.png", None, None),
        ("OK near Cancel", "text", "OK", None, "near"),
        ('"Sign in" left of "Help"', "text", "Sign in", None, "left of"),
        ("Item nth=3", "text", "Item", 3, None),
    ],
)
def test_parse_target(
    text: str, kind: str, value: str, nth: int | None, relation: str | None
) -> None:
    t = parse_target(text)
    assert (t.kind, t.value, t.nth, t.relation) == (kind, value, nth, relation)


def test_parse_target_errors() -> None:
    for bad, msg in (
        ("", "empty target"),
        ("regex:(", "not a valid regular expression"),
        ("Save #0", "counts from 1"),
    ):
        with pytest.raises(ConfigError, match=msg):
            parse_target(bad)


def test_normalize_and_similarity() -> None:
    assert normalize("  Save  As… ") == "save as"
    assert normalize("Crème brûlée!") == "creme brulee"
    assert similarity("submit", "sumbit") == pytest.approx(5 / 6)  # one swap
    assert similarity("submit", "sxbmit") == pytest.approx(5 / 6)  # one slip
    assert similarity("abc", "abc") == 1.0


def test_task_splitting_and_grammar() -> None:
    steps = parse_task(
        "# a comment line is skipped\n  # so is an indented one\n"
        '1. type "a; b then c" into Name\n- click Save then press ctrl+s; press tab 3 times\n'
        "scroll down 5 in Files, then drag Item 01 to Trash\nwait for Saved\nwait until Saving is gone\n"
        "wait 2 seconds; expect Thank you; read the status; double-click Item 02; right-click Name; hover Help; done"
    )
    verbs = [s.verb for s in steps]
    assert verbs == [
        "type",
        "click",
        "press",
        "press",
        "scroll",
        "drag",
        "wait_for",
        "wait_until_gone",
        "sleep",
        "expect_visible",
        "read",
        "double_click",
        "right_click",
        "hover",
        "done",
    ]
    s = steps
    assert s[0].text == "a; b then c" and s[0].into == "Name"  # type: ignore[attr-defined]
    assert s[2].keys == "ctrl+s"  # type: ignore[attr-defined]
    assert s[3].keys == "tab" and s[3].times == 3  # type: ignore[attr-defined]
    assert (s[4].direction, s[4].amount, s[4].in_) == ("down", 5, "Files")  # type: ignore[attr-defined]
    assert (s[5].from_, s[5].to) == ("Item 01", "Trash")  # type: ignore[attr-defined]
    assert s[8].seconds == 2.0  # type: ignore[attr-defined]
    assert s[10].target == "status"  # type: ignore[attr-defined]
    assert s[0].source == '1. type "a; b then c" into Name'.removeprefix("1. ")


def test_type_variants() -> None:
    s = parse_step('type "hello"')
    assert isinstance(s, TypeStep) and s.into is None and s.text == "hello" and not s.clear
    s = parse_step('type "x" into Name clear')
    assert isinstance(s, TypeStep) and s.clear and s.into == "Name"
    s = parse_step('clear Email and type "y"')
    assert isinstance(s, TypeStep) and s.clear and s.into == "Email" and s.text == "y"
    # "into" without "clear" leaves clear unset: the runner empties the field (as in YAML)
    s = parse_step('type "z" into Name')
    assert isinstance(s, TypeStep) and s.clear is None


def test_unparseable_steps_are_quoted_and_point_to_a_model() -> None:
    with pytest.raises(ConfigError) as err:
        parse_task("click Save; book me a flight to Paris; press ctrl+s; make it nicer")
    msg = str(err.value)
    assert "step 2: 'book me a flight to Paris'" in msg and "step 4: 'make it nicer'" in msg
    assert "`model`" in msg and "Nothing was executed" in msg  # the CLI says --model
    with pytest.raises(ConfigError, match="unknown key 'hyperdrive'"):
        parse_task("press ctrl+hyperdrive")


def test_the_second_look_reads_only_around_close_candidates() -> None:
    """A target the first look read almost ("Submlt"): the enlarged second look reads only a
    band around it, not the whole screen, and the grounding says why it ran. Nothing close:
    the whole screen, also said."""

    class Enlarged(FixedOcr):
        def __init__(self) -> None:
            super().__init__([line("Cancel", 20, 200), line("Submlt", 300, 200)])
            self.seen: list[tuple[tuple[int, int], float]] = []

        def read(self, image: Image.Image, *, scale: float = 1.0) -> list[OcrLine]:
            self.seen.append((image.size, scale))
            if scale == 1.0:
                return self.lines
            return [line("Submit", 300, 20)]  # in the band's own pixels (it starts at y=180)

    ocr = Enlarged()
    g = Grounder(ocr, second_look=2.0)
    found = g.locate("Submit", IMAGE)
    assert found.text == "Submit" and found.box.y1 == 200  # mapped back to the frame
    assert ocr.seen[-1] == ((800, 60), 2.0)  # one line above and below the close candidate
    assert any("second look at 2x over 60 rows around the close candidates 'Submlt'" in n for n in found.notes)
    with pytest.raises(TargetNotFound, match="second look at 2x over the whole screen"):
        g.locate("Preferences", IMAGE)
    assert ((800, 400), 2.0) in ocr.seen
