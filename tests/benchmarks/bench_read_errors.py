"""Precision, recall and exact messages of `read-errors` on a set of real screens with known
errors, with the desktop's windows (the live screen) and from the pixels alone (``--image``),
side by side on the same frames, and the time per screen.

Every screen is built for real on a private Xvfb: zenity (GTK) dialogs, the demo app's Tk
dialogs, status bar and Tools menu, Python tracebacks and shell errors in xterm, and screens
with no error at all. A finding matches a known error when its kind agrees and its message is
the known message after whitespace normalisation (exact) or close to it (similarity >= 0.8);
title, buttons and box are not scored here (the tests check them).

Run: ``python tests/benchmarks/bench_read_errors.py``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from screenagent.display import VirtualDisplay, end_process  # noqa: E402
from screenagent.findings import ErrorReader, Finding, normalize_ws, read_frame  # noqa: E402
from screenagent.ocr import CachedOcr, RapidOcrEngine  # noqa: E402
from screenagent.screen import MssScreen, SettleConfig, wait_until_settled  # noqa: E402

DEMO = str(ROOT / "examples" / "demo_app.py")
Truth = tuple[str, str]  # (kind, message)


class Stage:
    """Starts programs on the display and ends them (by PID) when the screen is done."""

    def __init__(self, vd: VirtualDisplay, tmp: Path) -> None:
        self.vd, self.tmp = vd, tmp
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *argv: str, cwd: Path | None = None) -> None:
        self.procs.append(subprocess.Popen(
            list(argv), env=dict(self.vd.env), cwd=cwd or self.tmp, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip

    def xdo(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=dict(self.vd.env), timeout=20, check=False,
                       capture_output=True)  # fmt: skip

    def wait(self, title: str) -> None:
        self.xdo("search", "--sync", "--onlyvisible", "--name", title)

    def demo(self) -> dict[str, Any]:
        state = self.tmp / "state.json"
        state.unlink(missing_ok=True)
        self.start(sys.executable, DEMO, "--state", str(state))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                data = json.loads(state.read_text())
                if data.get("ready"):
                    return dict(data)
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise RuntimeError("the demo app did not start")

    def term(self, title: str, script: str, geometry: str = "90x14+40+420") -> None:
        path = self.tmp / "cmd.sh"
        path.write_text(script)
        self.start("xterm", "-hold", "-fa", "Monospace", "-fs", "11", "-geometry", geometry,
                   "-T", title, "-e", "bash", str(path))  # fmt: skip
        self.wait(title)

    def end(self) -> None:
        for p in reversed(self.procs):
            end_process(p)
        self.procs.clear()


def click(stage: Stage, box: list[int]) -> None:
    x, y, w, h = box
    stage.xdo("mousemove", str(x + w // 2), str(y + h // 2), "click", "1")


PY_TB = "def f(d):\n    return d['port']\n\nf({})\n"
PY_CHAIN = "try:\n    int('x')\nexcept ValueError:\n    raise RuntimeError('config is broken')\n"


def screens() -> list[tuple[str, Callable[[Stage], None], list[Truth]]]:
    def zen(*args: str, title: str) -> Callable[[Stage], None]:
        def build(s: Stage) -> None:
            s.start("zenity", *args)
            s.wait(title)

        return build

    def demo_error(s: Stage) -> None:
        click(s, s.demo()["widgets"]["submit"])
        s.wait("^Error$")

    def demo_banner(s: Stage) -> None:
        click(s, s.demo()["widgets"]["submit"])
        s.wait("^Error$")
        time.sleep(0.5)
        ok = json.loads((s.tmp / "state.json").read_text())["dialog"]["ok"]
        s.xdo("mousemove", str(ok[0] + 10), str(ok[1] + 10), "click", "1")

    def demo_messagebox(s: Stage) -> None:
        s.demo()
        s.xdo("mousemove", "450", "400", "key", "ctrl+u")
        s.wait("Update failed")

    def demo_menu(s: Stage) -> None:
        s.demo()
        s.xdo("mousemove", "60", "15", "click", "1")  # Tools, in the menu bar

    def two(s: Stage) -> None:
        s.start(
            "zenity",
            "--error",
            "--title",
            "Sync failed",
            "--text",
            "The server refused the connection.",
        )
        s.wait("Sync failed")
        s.start("zenity", "--warning", "--title", "Low battery", "--text", "Battery at 5%.")
        s.wait("Low battery")  # fmt: skip
        s.xdo("search", "--name", "Sync failed", "windowmove", "40", "60")
        s.xdo("search", "--name", "Low battery", "windowmove", "700", "400")

    def python(code: str) -> Callable[[Stage], None]:
        def build(s: Stage) -> None:
            (s.tmp / "job.py").write_text(code)
            s.term("job log", f"cd {s.tmp}; {sys.executable} job.py")

        return build

    def shell(s: Stage) -> None:
        s.term("shell", "echo building; ls /nonexistent-dir; echo done")

    long = ("Could not save the file report-2026.pdf because the folder /home/ada/Documents/reports "
            "is read-only. Choose another folder and try again.")  # fmt: skip
    return [
        ("zenity error", zen("--error", "--title", "Disk full", "--text", "No space left on device.", title="Disk full"),
         [("dialog", "No space left on device.")]),
        ("zenity warning", zen("--warning", "--text", "The battery is low. Plug in the charger.", title="Warning"),
         [("dialog", "The battery is low. Plug in the charger.")]),
        ("zenity long error", zen("--error", "--text", long, title="Error"), [("dialog", long)]),
        ("zenity error, no error words", zen("--error", "--title", "Document", "--text", "The file is locked by another user.", title="Document"),
         [("dialog", "The file is locked by another user.")]),
        ("two dialogs", two, [("dialog", "The server refused the connection."), ("dialog", "Battery at 5%.")]),
        ("demo error dialog", demo_error, [("dialog", "Name is required.")]),
        ("demo status bar", demo_banner, [("banner", "Name is required.")]),
        ("Tk messagebox", demo_messagebox, [("dialog", "Could not reach the update server: the connection timed out.")]),
        ("python traceback", python(PY_TB), [("terminal", "'port'")]),
        ("chained traceback", python(PY_CHAIN), [("terminal", "config is broken")]),
        ("shell error", shell, [("terminal", "cannot access '/nonexistent-dir': No such file or directory")]),
        ("no error: demo", lambda s: (s.demo(), None)[1], []),
        ("no error: Tools menu", demo_menu, []),
        ("no error: info dialog", zen("--info", "--title", "Upload", "--text", "Upload complete. 0 errors.", title="Upload"), []),
        ("no error: question", zen("--question", "--title", "Quit", "--text", "Save changes before closing?", title="Quit"), []),
    ]  # fmt: skip


def score(findings: list[Finding], truths: list[Truth]) -> tuple[int, int, int]:
    """(findings that match a truth, truths matched, truths matched exactly)."""
    free = list(truths)
    matched = exact = 0
    for f in findings:
        msg = normalize_ws(f.message)
        best = max(free, key=lambda t: SequenceMatcher(None, msg, t[1]).ratio(), default=None)
        if best is None or best[0] != f.kind:
            continue
        ratio = SequenceMatcher(None, msg, normalize_ws(best[1])).ratio()
        if ratio >= 0.8:
            matched += 1
            exact += msg == normalize_ws(best[1])
            free.remove(best)
    return matched, matched, exact


def main() -> None:
    reader = ErrorReader(CachedOcr(RapidOcrEngine(), size=2))
    totals = {
        "windows": [0, 0, 0, 0, 0],
        "pixels": [0, 0, 0, 0, 0],
    }  # found, matched, truths, exact, fp
    times: dict[str, list[float]] = {"windows": [], "pixels": []}
    print(
        f"{'screen':32} {'truths':>6}  {'windows: found/ok/exact':>24}  {'pixels: found/ok/exact':>23}"
    )
    with tempfile.TemporaryDirectory() as tmp, VirtualDisplay(1280, 800) as vd:
        for name, build, truths in screens():
            stage = Stage(vd, Path(tmp))
            try:
                build(stage)
                with MssScreen(display=vd.display) as screen:
                    time.sleep(0.3)
                    frame = wait_until_settled(
                        screen, config=SettleConfig(quiet_seconds=0.5, cap_seconds=5)
                    ).last
                row = f"{name:32} {len(truths):>6}"
                for mode in ("windows", "pixels"):
                    reader.ocr = CachedOcr(RapidOcrEngine(), size=2)  # every screen read cold
                    t = time.perf_counter()
                    found = read_frame(
                        frame, display=vd.display if mode == "windows" else None, reader=reader
                    )
                    times[mode].append(time.perf_counter() - t)
                    matched, _, exact = score(found, truths)
                    tot = totals[mode]
                    tot[0] += len(found)
                    tot[1] += matched
                    tot[2] += len(truths)
                    tot[3] += exact
                    tot[4] += len(found) - matched
                    row += f"  {len(found):>10}/{matched}/{exact}{'':>9}"
                    if matched < len(truths) or len(found) > matched:
                        extra = [f.one_line()[:90] for f in found]
                        row += f"\n{'':34}{mode} saw: {extra}"
                print(row)
            finally:
                stage.end()
    print()
    for mode, (found, matched, truths, exact, _) in totals.items():
        precision = matched / found if found else 1.0
        recall = matched / truths if truths else 1.0
        t = times[mode]
        print(f"{mode:8}: precision {precision:.2f} ({matched}/{found}), recall {recall:.2f} "
              f"({matched}/{truths}), messages exact {exact}/{truths} ({exact / truths:.0%}); "
              f"time per screen median {statistics.median(t):.2f} s, max {max(t):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
