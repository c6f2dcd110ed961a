"""Text grounding accuracy and latency: RapidOCR (screenagent's default) next to Tesseract.

Screens with known widget boxes, side by side in one run, same targets for both grounders:

- the demo app in several fonts and sizes on a private 1280x800 Xvfb; the app reports each
  widget's true box, and a hit is a click point inside it;
- real GTK dialogs (zenity): the grounded button is clicked for real, and a hit is zenity
  exiting with that button's code (so the point was inside the true button).

Latency: the first lookup on a new frame (an OCR pass plus matching; models loaded beforehand)
and a repeat lookup on a later capture of the unchanged screen, median and p95. Tesseract runs
twice: on the screen as it is (the classic SikuliX setup) and upscaled 2x.

Run: ``python tests/benchmarks/bench_grounding.py``
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from screenagent.actions import Click  # noqa: E402
from screenagent.display import VirtualDisplay  # noqa: E402
from screenagent.grounding import Grounder, GroundingError  # noqa: E402
from screenagent.ocr import CachedOcr, OcrEngine, RapidOcrEngine, TesseractEngine  # noqa: E402
from screenagent.pyautogui_executor import PyAutoGUIExecutor  # noqa: E402
from screenagent.screen import MssScreen, SettleConfig, wait_until_settled  # noqa: E402

TARGETS = {
    "Contact form": "title", "Name": "name_label", "Email": "email_label",
    "Subscribe to news": "subscribe", "Submit": "submit", "Clear": "clear", "Refresh": "refresh",
    "Files": "list_label", "Drag the square into the box": "drag_label", "Ready": "status",
    "Item 01": "row0", "Item 04": "row3", "Item 09": "row8", "news": "subscribe", "square": "drag_label",
}  # fmt: skip
FONTS = [
    (None, None),
    ("DejaVu Sans", 9),
    ("DejaVu Serif", 11),
    ("DejaVu Sans", 13),
    ("Nimbus Sans", 12),
]
DIALOGS = [
    (["--error", "--text=Disk full: 3 MB left on /home"], {"OK": 0}),
    (["--question", "--text=Delete 3 files permanently?"], {"Yes": 0, "No": 1}),
    (["--warning", "--text=The battery is low"], {"OK": 0}),
]


@dataclass
class Score:
    hits: int = 0
    total: int = 0
    first: list[float] = field(default_factory=list)
    repeat: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


def inside(box: list[int], x: int, y: int) -> bool:
    bx, by, bw, bh = box
    return bx <= x < bx + bw and by <= y < by + bh


def wait_state(path: Path, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = json.loads(path.read_text())
            if state.get("ready"):
                return state
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise RuntimeError("the demo app did not start")


def _engines() -> dict[str, OcrEngine]:
    out: dict[str, OcrEngine] = {"rapidocr": RapidOcrEngine()}
    if shutil.which("tesseract"):
        out["tesseract-2x"] = TesseractEngine(upscale=2)
        out["tesseract-1x"] = TesseractEngine(upscale=1)
    out["rapidocr-photo"] = RapidOcrEngine(params={}, rec_cache=False)  # RapidOCR's own defaults

    for engine in out.values():  # load models before timing anything
        engine.read(Image.new("RGB", (64, 32), "white"))
    return out


_ENGINES: dict[str, OcrEngine] = {}


def engines() -> dict[str, OcrEngine]:
    if not _ENGINES:
        _ENGINES.update(_engines())
    return _ENGINES


def bench_demo(vd: VirtualDisplay, tmp: Path, scores: dict[str, Score]) -> None:
    for family, size in FONTS:
        state_path = tmp / f"demo-{family}-{size}.json"
        argv = [sys.executable, str(ROOT / "examples" / "demo_app.py"), "--state", str(state_path)]
        if family:
            argv += ["--font-family", family, "--font-size", str(size)]
        app = subprocess.Popen(argv, env=vd.env)
        try:
            state = wait_state(state_path)
            with MssScreen(display=vd.display) as screen:
                wait_until_settled(screen, config=SettleConfig(quiet_seconds=0.3))
                state = json.loads(state_path.read_text())
                boxes = dict(state["widgets"])
                for i, row in enumerate(boxes.pop("list_rows")):
                    boxes[f"row{i}"] = row
                frame = screen.capture()
                for name, engine in engines().items():
                    score = scores[name]
                    grounder = Grounder(CachedOcr(engine), second_look=1.0)
                    t = time.perf_counter()
                    grounder.read(frame.image)  # the first look at a new frame
                    first_read = time.perf_counter() - t
                    for k, (target, widget) in enumerate(TARGETS.items()):
                        again = screen.capture()  # a new capture of the unchanged screen
                        t = time.perf_counter()
                        try:
                            found = grounder.locate(target, again.image)
                            ok = inside(boxes[widget], found.x, found.y)
                        except GroundingError as exc:
                            ok, found = False, None
                            score.misses.append(
                                f"{family or 'default'} {size or ''}: {target!r}: {str(exc)[:90]}"
                            )
                        elapsed = time.perf_counter() - t
                        if k == 0:
                            score.first.append(first_read + elapsed)
                        else:
                            score.repeat.append(elapsed)
                        if found is not None and not ok:
                            score.misses.append(f"{family or 'default'} {size or ''}: {target!r} at {found.x},{found.y} "
                                                f"outside {boxes[widget]}")  # fmt: skip
                        score.hits += ok
                        score.total += 1
        finally:
            app.terminate()
            app.wait(timeout=5)


def bench_dialogs(vd: VirtualDisplay, scores: dict[str, Score]) -> None:
    if not shutil.which("zenity"):
        print("zenity not installed: dialogs skipped")
        return
    executor = PyAutoGUIExecutor(display=vd.display)
    for name, engine in engines().items():
        score = scores[name]
        for args, buttons in DIALOGS:
            for button, code in buttons.items():
                proc = subprocess.Popen(["zenity", *args], env=vd.env, stderr=subprocess.DEVNULL)
                try:
                    grounder = Grounder(CachedOcr(engine), second_look=1.0)
                    with MssScreen(display=vd.display) as screen:
                        time.sleep(1.0)  # GTK maps, then paints its buttons
                        wait_until_settled(screen, config=SettleConfig(quiet_seconds=0.3))
                        frame = screen.capture()
                        t = time.perf_counter()
                        try:
                            found = grounder.locate(button, frame.image)
                        except GroundingError as exc:
                            found = None
                            score.misses.append(f"zenity {args[0]}: {button!r}: {str(exc)[:90]}")
                        score.first.append(time.perf_counter() - t)
                        ok = False
                        if found is not None:
                            executor.execute(Click(x=found.x, y=found.y), frame)
                            try:
                                ok = proc.wait(timeout=5) == code
                            except subprocess.TimeoutExpired:
                                ok = False
                            if not ok:
                                score.misses.append(
                                    f"zenity {args[0]}: {button!r} click at {found.x},{found.y} missed"
                                )
                        score.hits += ok
                        score.total += 1
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()


def _changed_share(before: Image.Image | None, after: Image.Image) -> float:
    import numpy as np

    if before is None or before.size != after.size:
        return 1.0
    diff = np.asarray(before.convert("RGB")) != np.asarray(after.convert("RGB"))
    rows, cols = np.nonzero(diff.any(axis=2))
    if not len(rows):
        return 0.0
    return (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1) / (after.width * after.height)


def _kind(i: int, share: float, lines: int) -> str:
    if i > 0 and share <= 0.10:
        return "small change"
    density = "dense" if lines >= 50 else "sparse" if lines <= 15 else "medium"
    return f"new, {density}"


def bench_sequence(tmp: Path) -> None:
    """Frames recorded live from the demo app, mousepad and xterm, read in order by: RapidOCR
    with its photo defaults, with screenagent's screen settings and no caches (a full pass per
    frame), and with those and the cache of line recognitions (what a run uses); then a repeat
    look through the frame cache. Frame kinds: a frame is a small change when the box around
    the pixels that changed since the previous frame is at most 10% of the frame; the others
    (first frames, dialogs, scrolling) are new, dense with 50 lines or more, sparse with 15
    or fewer."""
    from apps.corpus import recorded_frames

    seqs = recorded_frames(tmp)
    readers = {
        "photo defaults": RapidOcrEngine(params={}, rec_cache=False),
        "full pass": RapidOcrEngine(rec_cache=False),
        "run (line cache)": RapidOcrEngine(),
    }
    for r in readers.values():
        r.read(seqs["demo"][0].crop((0, 0, 64, 32)))
    rows: dict[str, dict[str, list[float]]] = {}
    cpu: dict[str, dict[str, float]] = {}
    recognised: dict[str, int] = {}
    lines: dict[str, list[int]] = {}
    for frames in seqs.values():
        before: Image.Image | None = None
        for i, image in enumerate(frames):
            share = _changed_share(before, image)
            before = image
            by: dict[str, list[Any]] = {}
            for name, r in readers.items():
                misses = r.rec_misses
                c0, t0 = time.process_time(), time.perf_counter()
                got = r.read(image)
                by[name] = [time.perf_counter() - t0, time.process_time() - c0, got, r.rec_misses - misses]
            kind = _kind(i, share, len(by["full pass"][2]))
            for name, (wall, cpu_s, _, _) in by.items():
                rows.setdefault(kind, {}).setdefault(name, []).append(wall)
                cpu.setdefault(kind, {}).setdefault(name, 0.0)
                cpu[kind][name] += cpu_s
            recognised[kind] = recognised.get(kind, 0) + by["run (line cache)"][3]
            lines.setdefault(kind, []).append(len(by["full pass"][2]))
    cached = CachedOcr(readers["run (line cache)"])
    repeat = []
    for frames in seqs.values():
        for image in frames:
            cached.read(image)
            t0 = time.perf_counter()
            cached.read(image.copy())
            repeat.append(time.perf_counter() - t0)
    n = sum(len(f) for f in seqs.values())
    print(f"\nOCR of {n} recorded frames ({', '.join(f'{k}: {len(v)}' for k, v in seqs.items())}), "
          "median / p95 ms per frame, side by side in one run")
    print(f"{'frames':<14}{'n':>3}{'lines':>7}" + "".join(f"{name:>20}" for name in readers)
          + f"{'full/run':>10}{'CPU s full/run':>16}{'crops recognised':>18}")  # fmt: skip
    for kind, by_name in rows.items():
        full, run = by_name["full pass"], by_name["run (line cache)"]
        print(f"{kind:<14}{len(lines[kind]):>3}{statistics.median(lines[kind]):>7.0f}"
              + "".join(f"{statistics.median(v) * 1000:>11.0f} / {pct(v, 0.95) * 1000:<5.0f}" for v in by_name.values())
              + f"{statistics.median(full) / statistics.median(run):>9.1f}x"
              + f"{cpu[kind]['full pass']:>9.1f} / {cpu[kind]['run (line cache)']:<5.1f}"
              + f"{recognised[kind]:>7} ({sum(lines[kind])} lines)")  # fmt: skip
    print("(the full pass and the run detect text over the whole frame; the run recognises only "
          "line crops it has not seen; crops include pieces of long lines read again and lines dropped for a low score)")
    print(f"repeat look on an unchanged frame (frame cache): median {statistics.median(repeat) * 1000:.1f} ms, "
          f"p95 {pct(repeat, 0.95) * 1000:.1f} ms")


def main() -> int:
    scores = {name: Score() for name in engines()}
    with VirtualDisplay(1280, 800) as vd, TemporaryDirectory() as tmp:
        bench_demo(vd, Path(tmp), scores)
        bench_dialogs(vd, scores)
        bench_sequence(Path(tmp))
    ms = 1000
    print(
        "text grounding on screens with known boxes (demo app in 5 fonts/sizes, 3 zenity dialogs)"
    )
    print(
        f"{'grounder':<12}{'inside box':>16}{'first lookup (median / p95)':>32}{'repeat lookup (median / p95)':>32}"
    )
    for name, s in scores.items():
        share = f"{s.hits}/{s.total} {100 * s.hits / max(s.total, 1):.1f}%"
        first = f"{statistics.median(s.first) * ms:.0f} / {pct(s.first, 0.95) * ms:.0f} ms"
        repeat = (
            f"{statistics.median(s.repeat) * ms:.1f} / {pct(s.repeat, 0.95) * ms:.1f} ms"
            if s.repeat
            else "-"
        )
        print(f"{name:<12}{share:>16}{first:>32}{repeat:>32}")
    for name, s in scores.items():
        for miss in s.misses:
            print(f"  {name} miss: {miss}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
