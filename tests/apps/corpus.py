"""The real-app corpus: one task per app, each run on its own owned desktop through the public
API and judged OUTSIDE screenagent (a file on disk, what a local server received, the
clipboard, a program's own output). `tests/test_real_apps.py` asserts on them;
`tests/benchmarks/bench_real_apps.py` times them.
"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from PIL import Image

from screenagent import Session as _Session

_ROOT = Path(__file__).resolve().parents[2]
SESSION_OPTIONS: dict[str, object] = {}
"""Options every task's Session gets (the benchmark sets ``tree=False`` for its OCR column)."""


def Session(**kwargs: object) -> _Session:
    """A `screenagent.Session` with `SESSION_OPTIONS` applied."""
    return _Session(**{**SESSION_OPTIONS, **kwargs})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Outcome:
    """What the outside check saw: ``ok`` when the effect is exactly the expected one."""

    ok: bool
    seen: str


def private_home(tmp: Path) -> dict[str, str]:
    """Apps keep sessions and settings in HOME: a fresh one per task (mousepad otherwise offers
    to restore its last, killed, session)."""
    home = tmp / "home"
    (home / ".config").mkdir(parents=True, exist_ok=True)
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"), "XDG_CACHE_HOME": str(home / ".cache")}  # fmt: skip


def gtk_editor_save(tmp: Path) -> Outcome:
    """mousepad (GTK3): type right after the launch (its window is focused), Save As through
    GTK's file chooser; judged by the file on disk."""
    out = tmp / "out"
    out.mkdir(parents=True, exist_ok=True)
    note = out / "note.txt"
    with Session(virtual_display="1280x800", launch=["mousepad"], cwd=out,
                 env=private_home(tmp), failsafe=False) as s:  # fmt: skip
        s.type("hello from screenagent")
        s.press("ctrl+shift+s")
        s.wait_for("Save As")  # the dialog's title, drawn by the window manager
        s.type(str(note), into="Name")
        s.click("Save")
        s.wait_until_gone("Save As")
    seen = note.read_text() if note.exists() else "(no file)"
    return Outcome(ok=seen == "hello from screenagent", seen=seen)


def gtk_dialog_entry(tmp: Path) -> Outcome:
    """zenity --entry (a GTK dialog): judged by what zenity prints."""
    with Session(virtual_display="1280x800", failsafe=False) as s:
        proc = subprocess.Popen(
            ["zenity", "--entry", "--title", "Your name", "--text", "Who are you?"],
            env=s.child_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            s.wait_for("Who are you?")
            s.type("Ada Lovelace")  # the new dialog has the focus: no target needed
            s.click("OK")
            out, _ = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return Outcome(ok=out.strip() == "Ada Lovelace", seen=out.strip())


def gtk_calculator(tmp: Path) -> Outcome:
    """galculator: 7 + 5 = with its buttons; judged by the clipboard (ctrl+c copies the
    display)."""
    with Session(virtual_display="1280x800", launch=["galculator"], env=private_home(tmp),
                 failsafe=False) as s:  # fmt: skip
        for button in ("7", "+", "5", "="):
            s.click(button, timeout=5)
        s.press("ctrl+c")
        got = subprocess.run(["xclip", "-o", "-selection", "clipboard"], env=s.child_env(),
                             capture_output=True, text=True, timeout=10).stdout.strip()  # fmt: skip
    return Outcome(ok=got == "12", seen=got)


class _Form(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, list[str]]]] = []
    PAGE = b"""<!doctype html><html><body style="font: 18px sans-serif; margin: 40px">
<h1>Sign up</h1>
<form method="post" action="/submit">
<label for="name">Full name</label><br><input id="name" name="name" size="30"><br><br>
<label for="city">City</label><br><select id="city" name="city">
<option>Paris</option><option>London</option><option>Rome</option></select><br><br>
<input type="checkbox" name="terms" value="yes"> I agree to the terms<br><br>
<button type="submit">Send</button></form></body></html>"""

    def do_GET(self) -> None:
        self._reply(self.BIG if self.path == "/big" else self.PAGE)

    BIG = ("<!doctype html><html><body><h1>Inventory</h1><table>" + "".join(
        f"<tr><td>Item {i:03d}</td><td><input aria-label='Count {i:03d}' size=4></td>"
        f"<td><button>Order {i:03d}</button></td></tr>" for i in range(1, 121)
    ) + "</table></body></html>").encode()
    """A long page (about 500 showing nodes) for the tree's snapshot time."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        type(self).received.append(urllib.parse.parse_qs(body))
        self._reply(b"<html><body><h1>Thanks</h1></body></html>")

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def form_server() -> Iterator[str]:
    """A form served from 127.0.0.1 that records what is posted to it."""
    _Form.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Form)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def chromium_argv(profile: Path, url: str) -> list[str]:
    """Chromium at 0,0 in 1200x760 with its tree exported (root needs --no-sandbox)."""
    from screenagent.desktop import CHROMIUM_FLAGS

    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    return [chromium, "--no-sandbox", "--no-first-run", f"--user-data-dir={profile}",
            "--window-position=0,0", "--window-size=1200,760", *CHROMIUM_FLAGS, url]  # fmt: skip


def chromium_form(tmp: Path) -> Outcome:
    """A web form in Chromium: labels ABOVE their fields, a select, a checkbox whose text is
    no <label>; judged by what the local server received."""
    with form_server() as url:
        argv = chromium_argv(tmp / 'profile', url)
        with Session(virtual_display="1280x800", launch=argv, ready="Sign up", app_timeout=60,
                     failsafe=False) as s:  # fmt: skip
            s.type("Ada Lovelace", into="Full name")
            s.select("London", in_="City")
            s.check("I agree to the terms")
            s.click("Send")
            s.wait_for("Thanks")
        got = list(_Form.received)
    want = [{"name": ["Ada Lovelace"], "city": ["London"], "terms": ["yes"]}]
    return Outcome(ok=got == want, seen=repr(got))


def qt_preferences(tmp: Path) -> Outcome:
    """featherpad (Qt): a menu, then its Preferences dialog (a Qt dialog, placed over the
    window by the window manager); judged by the app's own config file."""
    env = private_home(tmp)
    conf = Path(env["XDG_CONFIG_HOME"]) / "featherpad" / "fp.conf"
    with Session(virtual_display="1280x800", launch=["featherpad"], env=env, failsafe=False) as s:
        s.click("Options")
        s.click("Preferences")
        s.click("Do not show toolbar")
        s.click("Close")
        s.wait_until_gone("Preferences")
        s.wait_settled(2.0, quiet=0.3)
    lines = conf.read_text().splitlines() if conf.exists() else []
    seen = [line for line in lines if line.startswith("noToolbar=")]
    return Outcome(ok=seen == ["noToolbar=true"], seen=repr(seen))


def demo_app_form(tmp: Path) -> Outcome:
    """Our Tk demo app, the same way (its state file is the judge)."""
    import json
    import sys

    demo = Path(__file__).resolve().parents[2] / "examples" / "demo_app.py"
    state = tmp / "state.json"
    with Session(virtual_display="1280x800", launch=[sys.executable, str(demo), "--state", str(state)],
                 ready="Submit", failsafe=False) as s:  # fmt: skip
        s.type("Ada Lovelace", into="Name")
        s.click("Submit")
        s.expect_visible("Thank you, Ada Lovelace")
    submitted = json.loads(state.read_text())["submitted"]
    return Outcome(ok=[x["name"] for x in submitted] == ["Ada Lovelace"], seen=repr(submitted))


TASKS: dict[str, tuple[str, Callable[[Path], Outcome]]] = {
    "gtk-editor-save-as": ("mousepad", gtk_editor_save),
    "gtk-dialog-entry": ("zenity", gtk_dialog_entry),
    "gtk-calculator": ("galculator", gtk_calculator),
    "qt-preferences-dialog": ("featherpad", qt_preferences),
    "chromium-form": ("chromium", chromium_form),
    "tk-demo-form": ("python3", demo_app_form),
}
"""Task name -> (the program it needs, the task)."""


# -- frames for OCR: sequences recorded live ------------------------------------------------------


def _frames_of_the_demo(tmp: Path) -> list[Image.Image]:
    frames = []
    demo = [sys.executable, str(_ROOT / "examples" / "demo_app.py"), "--state", str(tmp / "state.json")]
    with _Session(virtual_display="1280x800", launch=demo, ready="Submit", failsafe=False,
                  allow_errors=True, verify=False) as s:  # fmt: skip
        frames.append(s.wait_settled())
        s.type("Ada <é>", into="Name")
        frames.append(s.wait_settled())
        s.click("Submit")
        s.wait_for("Thank you")
        frames.append(s.wait_settled())
        s.press("enter")
        frames.append(s.wait_settled())
        s.scroll("down", amount=3, in_="Item 04")
        frames.append(s.wait_settled())
    return [f.image for f in frames]


def _frames_of_mousepad(tmp: Path) -> list[Image.Image]:
    frames = []
    with _Session(virtual_display="1280x800", launch=["mousepad"], env=private_home(tmp), failsafe=False,
                  allow_errors=True, verify=False, app_timeout=30) as s:  # fmt: skip
        s.wait_for("Mousepad")
        frames.append(s.wait_settled())
        s.type("hello world")
        frames.append(s.wait_settled())
        s.click("File")
        s.wait_for("Save As")
        frames.append(s.wait_settled())
        s.press("escape")
        time.sleep(0.3)
        frames.append(s.wait_settled())
        s.press("ctrl+shift+s")
        s.wait_for("Cancel")
        frames.append(s.wait_settled())
    return [f.image for f in frames]


def _frames_of_xterm(tmp: Path) -> list[Image.Image]:
    """A terminal: a sparse screen, a dense one (40 lines of a listing), a keystroke, and the
    whole text scrolled up by a few rows (no band is the same; most line crops are)."""
    frames = []
    tmp.mkdir(parents=True, exist_ok=True)
    home = private_home(tmp)
    for i in range(60):
        (tmp / f"report-{i:02d}-{'abcdefghij'[i % 10] * (i % 7 + 3)}.txt").write_text("x" * i)
    argv = ["xterm", "-fa", "Monospace", "-fs", "10", "-geometry", "150x44+0+0", "-e", "bash", "--norc", "--noprofile"]
    with _Session(virtual_display="1280x800", launch=argv, env=home, failsafe=False, allow_errors=True,
                  verify=False, app_timeout=30, tree=False) as s:  # fmt: skip
        s.wait_for("bash")
        s.type(f"cd {tmp} && PS1='$ ' && clear")
        s.press("enter")
        frames.append(s.wait_settled())
        s.type("ls -l | tail -40")
        s.press("enter")
        s.wait_for("report-59")
        frames.append(s.wait_settled())
        s.type("e")
        frames.append(s.wait_settled())
        s.press("backspace")
        s.type("seq 3")
        s.press("enter")
        frames.append(s.wait_settled())
    return [f.image for f in frames]


def recorded_frames(tmp: Path) -> dict[str, list[Image.Image]]:
    """Frames of the demo app, mousepad and xterm (where installed) as a run sees them: typing,
    a dialog opening and closing, a menu, scrolling, Save As, a dense terminal scrolling."""
    seqs = {"demo": _frames_of_the_demo(tmp)}
    if shutil.which("mousepad") is not None:
        seqs["mousepad"] = _frames_of_mousepad(tmp)
    if shutil.which("xterm") is not None:
        seqs["xterm"] = _frames_of_xterm(tmp / "xterm")
    return seqs
