"""The accessibility tree on the real virtual desktop (Xvfb + openbox + a private D-Bus session
bus + the AT-SPI bus): trees read from a GTK app (galculator), a Qt app (featherpad) and a
Chromium page, boxes checked against the X server's own window geometry; check / uncheck on a
real Qt dialog judged by the app's config file; a Tk form (no tree) with labels above its
fields filled by OCR, judged by the file it writes; the tree and OCR compared on the same
targets; a hung app and a huge tree bounded; read-errors made exact by a GTK dialog's node.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from apps.corpus import chromium_argv, form_server, private_home
from conftest import wait_for_file

from screenagent import Session, StepFailed
from screenagent.grounding import GroundedBy, Grounder, GroundingError

pytestmark = [pytest.mark.display, pytest.mark.ocr, pytest.mark.slow]
pytest.importorskip("jeepney", reason="the [a11y] extra is not installed")
pytest.importorskip("rapidocr", reason="the [ocr] extra is not installed")


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed (.ci/setup.sh installs it)")
    return path


def _frame_extents(display: str, window: int) -> tuple[int, int, int, int]:
    """The window manager's decorations around a window (left, right, top, bottom)."""
    from Xlib import Xatom
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        w = d.create_resource_object("window", window)
        prop = w.get_full_property(d.intern_atom("_NET_FRAME_EXTENTS"), Xatom.CARDINAL)
        return tuple(int(v) for v in prop.value) if prop else (0, 0, 0, 0)  # type: ignore[return-value]
    finally:
        d.close()


def _window_node(snap, app_name: str):  # type: ignore[no-untyped-def]
    return next(n for n in snap.nodes if n.app.casefold() == app_name.casefold()
                and n.role in ("frame", "window") and n.window == n.index and n.name)  # fmt: skip


@pytest.mark.parametrize("app", ["galculator", "featherpad", "chromium"])
def test_trees_of_gtk_qt_and_chromium_match_the_real_windows(app: str, tmp_path: Path) -> None:
    """Names, roles and states as the toolkit says, and the window's box within 2 px of the
    X server's geometry for that window (xdotool-free: python-xlib's translate_coords)."""
    need(app)
    expect: dict[str, tuple[str, str, str | None]] = {
        "galculator": ("toggle button", "=", None),
        "featherpad": ("menu item", "Options", None),
        "chromium": ("entry", "Full name", "editable"),
    }
    with form_server() as url:
        argv = [app]
        if app == "chromium":
            argv = chromium_argv(tmp_path / "p", url)
        with Session(virtual_display="1280x800", launch=argv, env=private_home(tmp_path),
                     ready="Sign up" if app == "chromium" else None, app_timeout=60,
                     failsafe=False) as s:  # fmt: skip
            snap = s.tree()
            assert s.app is not None and s.app.window is not None and s.display is not None
            win = s.app.window
            left, right, top, bottom = _frame_extents(s.display, win.id)
    role, name, state = expect[app]
    node = next((n for n in snap.nodes if n.role == role and n.name == name), None)
    assert node is not None, f"no {role} {name!r} in:\n{snap.render()}"
    assert state is None or state in node.states
    frame = _window_node(snap, {"chromium": "Chromium", "featherpad": "FeatherPad"}.get(app, app))
    assert frame.box is not None
    got = (frame.box.left, frame.box.top, frame.box.width, frame.box.height)
    client = (win.x, win.y, win.width, win.height)  # Qt and Chromium report the client area,
    outer = (win.x - left, win.y - top, win.width + left + right, win.height + top + bottom)  # GTK the frame
    assert any(all(abs(a - b) <= 2 for a, b in zip(got, want, strict=True)) for want in (client, outer)), (
        got, client, outer)  # fmt: skip
    assert node.box is not None and frame.box.contains_rect(node.box)
    assert snap.seconds < 2.0 and snap.cut is None


def test_check_and_uncheck_a_qt_checkbox_verified_by_state_and_by_the_apps_config(tmp_path: Path) -> None:
    need("featherpad")
    env = private_home(tmp_path)
    conf = Path(env["XDG_CONFIG_HOME"]) / "featherpad" / "fp.conf"
    with Session(virtual_display="1280x800", launch=["featherpad"], env=env, failsafe=False) as s:
        s.click("Options")
        s.click("Preferences")
        first = s.check("Do not show toolbar")
        assert first.grounding is not None and first.grounding.by == "tree"
        assert first.grounding.role == "check box" and "checked" in first.grounding.states
        s.expect_checked("Do not show toolbar")
        again = s.check("Do not show toolbar")
        assert again.note is not None and again.note.startswith("already checked")
        s.uncheck("Do not show toolbar")
        s.expect_unchecked("Do not show toolbar")
        with pytest.raises(StepFailed) as err:
            s.check("button:Close")
        assert "cannot be checked: it is a push button 'Close'" in str(err.value)
        s.check("Do not show toolbar")
        s.click("button:Close")
        s.wait_until_gone("Preferences")
        s.wait_settled(2.0, quiet=0.3)
    lines = conf.read_text().splitlines() if conf.exists() else []
    assert [x for x in lines if x.startswith("noToolbar=")] == ["noToolbar=true"]


TK_FORM = """
import json, sys, tkinter as tk
root = tk.Tk(); root.title("Labels above"); root.geometry("420x300+60+60")
out = sys.argv[1]
tk.Label(root, text="Full name").place(x=20, y=20)
name = tk.Entry(root); name.place(x=20, y=44, width=300, height=28)
tk.Label(root, text="City").place(x=20, y=90)
city = tk.Entry(root); city.place(x=20, y=114, width=300, height=28)
def submit():
    json.dump({"name": name.get(), "city": city.get()}, open(out, "w")); root.destroy()
tk.Button(root, text="Submit", command=submit).place(x=20, y=170, width=100, height=32)
root.mainloop()
"""


def test_a_tk_form_with_labels_above_fields_is_filled_by_ocr(tmp_path: Path) -> None:
    """Tk exposes no tree: field: falls back to OCR and finds the field below its label."""
    script, out = tmp_path / "form.py", tmp_path / "out.json"
    script.write_text(TK_FORM)
    with Session(virtual_display="1280x800", launch=[sys.executable, str(script), str(out)],
                 ready="Submit", failsafe=False) as s:  # fmt: skip
        typed = s.type("Ada Lovelace", into="Full name")
        assert typed.grounding is not None and typed.grounding.by == "ocr"
        s.type("Paris", into="City")
        s.expect_value("City", equals="Paris")
        s.click("Submit")
        wait_for_file(out)
    assert json.loads(out.read_text()) == {"name": "Ada Lovelace", "city": "Paris"}


def test_the_tree_and_ocr_agree_on_the_same_targets(tmp_path: Path) -> None:
    """galculator's labelled buttons and menus grounded both ways on one frame: where OCR finds
    the target, its box centre lies in the tree's box. The agreement rate is printed."""
    need("galculator")
    targets = ["7", "8", "9", "4", "5", "6", "1", "2", "3", "0", "AC", "C", "MS", "sqrt",
               "File", "Edit", "View", "Calculator", "Help", "=", "+", "*", "/"]  # fmt: skip
    with Session(virtual_display="1280x800", launch=["galculator"], env=private_home(tmp_path),
                 failsafe=False) as s:  # fmt: skip
        image = s.wait_settled(5.0, quiet=0.3).image
        ocr_only = Grounder(second_look=1)
        fused = s.grounder
        agree = ocr_found = tree_found = 0
        missing_in_ocr = []
        for t in targets:
            tree = fused.locate(t, image)
            assert tree.grounded_by is GroundedBy.TREE, t
            tree_found += 1
            try:
                o = ocr_only.locate(t, image)
            except GroundingError:
                missing_in_ocr.append(t)
                continue
            ocr_found += 1
            agree += tree.box.contains_point(o.x, o.y)
    rate = agree / max(ocr_found, 1)
    print(f"\ntree found {tree_found}/{len(targets)}; OCR found {ocr_found}; agreement "
          f"{agree}/{ocr_found} = {rate:.0%}; OCR missed {missing_in_ocr}")  # fmt: skip
    assert tree_found == len(targets)
    assert "=" in missing_in_ocr, "OCR cannot read the lone '=' (why the tree is needed)"
    assert ocr_found >= 10 and rate >= 0.9


def test_a_hung_app_and_a_huge_tree_are_bounded(tmp_path: Path) -> None:
    need("galculator")
    from screenagent.a11y import Limits, read_snapshot

    with Session(virtual_display="1280x800", launch=["galculator"], env=private_home(tmp_path),
                 failsafe=False) as s:  # fmt: skip
        cut = read_snapshot(s.tree_reader.bus, limits=Limits(nodes=10))
        assert len(cut) == 10 and cut.cut is not None and "nodes" in cut.cut
        assert s.app is not None
        os.kill(s.app.proc.pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            hung = s.tree()
            took = time.monotonic() - start
            assert took < 3.0 and any("did not answer" in w for w in hung.warnings), hung.warnings
            assert not any(n.role == "toggle button" for n in hung.nodes)
            found = s.find("AC")  # the pixels are still there: OCR answers
            assert found.grounded_by is GroundedBy.OCR
        finally:
            os.kill(s.app.proc.pid, signal.SIGCONT)


def test_screenagent_tree_prints_json_of_a_launched_app() -> None:
    need("galculator")
    proc = subprocess.run(
        [sys.executable, "-m", "screenagent", "tree", "--virtual-display", "1280x800",
         "--launch", "galculator", "--json", "--app", "galculator"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    roles = {(n["role"], n["name"]) for n in data["nodes"]}
    assert ("toggle button", "=") in roles and all(n["app"] == "galculator" for n in data["nodes"][1:])
    text = subprocess.run(
        [sys.executable, "-m", "screenagent", "tree", "--virtual-display", "1280x800", "--launch", "galculator"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert text.returncode == 0 and "toggle button '='" in text.stdout
    bare = subprocess.run(
        [sys.executable, "-m", "screenagent", "tree", "--virtual-display", "800x600", "--desktop", "bare",
         "--json"], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bare.returncode == 2 and "error" in json.loads(bare.stdout)


def test_a_bare_display_reads_no_tree_from_the_callers_bus() -> None:
    """Run from inside another desktop (its session bus in the environment, as under pytest-xdist
    or in a user's terminal), a session on its own bare display still has no tree: the
    inherited bus is the other desktop's, not this screen's."""
    from screenagent.display import VirtualDisplay

    with VirtualDisplay(640, 480, set_environ=False) as other:
        assert "DBUS_SESSION_BUS_ADDRESS" in other.env
        bare = subprocess.run(
            [sys.executable, "-m", "screenagent", "tree", "--virtual-display", "800x600", "--desktop", "bare",
             "--json"], capture_output=True, text=True, timeout=120, env=dict(other.env),
        )  # fmt: skip
    assert bare.returncode == 2, bare.stdout + bare.stderr
    assert "bare display" in json.loads(bare.stdout)["error"]


def test_read_errors_takes_a_gtk_dialogs_title_message_and_buttons_from_the_tree() -> None:
    need("zenity")
    message = "Could not open notes.txt: permission denied"
    with Session(virtual_display="1280x800", failsafe=False) as s:
        proc = subprocess.Popen(["zenity", "--error", "--title", "Save failed", "--text", message],
                                env=s.child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            s.wait_for("permission denied")
            s.wait_settled(2.0, quiet=0.3)
            findings = s.read_errors()
        finally:
            proc.kill()
            proc.wait()
    dialog = next(f for f in findings if f.kind == "dialog")
    assert (dialog.source, dialog.title, dialog.buttons) == ("tree", "Save failed", ["OK"])
    assert dialog.message == message and dialog.severity == "error"
