"""The accessibility tree as a grounder, next to OCR, on real apps: per app, how many targets
each grounder places inside the widget, and how long a lookup takes, side by side in one run;
and how long a snapshot of the tree takes.

Apps: galculator (GTK3), featherpad (Qt5), mousepad (GTK3), a Chromium page (a form with
labels above its fields) and a long Chromium page (a 120-row table: about 500 showing nodes,
for the snapshot time), each on its own owned desktop (Xvfb + openbox + D-Bus + AT-SPI).
The truth for "in box" is the toolkit's own widget geometry (AT-SPI extents, which
`tests/test_a11y.py` checks against the X server's window geometry within 2 px); a grounder
hits when its click point lies inside that box. Grounders:

- tree: the tree alone (`screenagent.grounding.roles.tree_candidates` on a fresh snapshot);
- ocr: the OCR chain alone (`Grounder(tree=None)`, second look included);
- fused: the default chain (`Session.grounder`: tree first, then OCR).

Snapshot: the first read (cold) / the median of the next ones (warm: the reader keeps each
call's bytes, and a run reads the same objects again on every step). Times: "new frame" is the first lookup on a frame (the tree pays a snapshot, OCR a full pass);
"lookup" is the median of all targets on that frame (snapshot or OCR pass cached).

Run: ``python tests/benchmarks/bench_a11y.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from apps.corpus import chromium_argv, form_server, private_home  # noqa: E402

from screenagent import Session  # noqa: E402
from screenagent.grounding import Grounder, GroundingError, parse_target  # noqa: E402
from screenagent.grounding.roles import tree_candidates  # noqa: E402

APPS: dict[str, list[str]] = {
    "galculator": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "=", "+", "-", "*", "/", "%",
                   "AC", "C", "MS", "sqrt", "(", ")", ".", "File", "Edit", "View", "Calculator", "Help"],
    "featherpad": ["File", "Edit", "Options", "Search", "Help", "button:New", "button:Open", "button:Find",
                   "Untitled"],
    "mousepad": ["File", "Edit", "Search", "View", "Document", "Help"],
    "chromium": ["field:Full name", "City", "Send", "I agree to the terms", "Sign up", "Reload", "Back"],
    "chromium-long": ["Inventory", "Order 001", "Item 005", "field:Count 003", "button:Order 010"],
}  # fmt: skip


@contextmanager
def app_session(app: str, tmp: Path) -> Iterator[Session]:
    with form_server() as url:
        argv = [app]
        ready = None
        if app.startswith("chromium"):
            ready = "Inventory" if app == "chromium-long" else "Sign up"
            page = url + ("big" if app == "chromium-long" else "")
            argv = chromium_argv(tmp / "p", page)
        with Session(virtual_display="1280x800", launch=argv, env=private_home(tmp), failsafe=False,
                     ready=ready, app_timeout=60) as s:  # fmt: skip
            s.wait_settled(5.0, quiet=0.5)
            yield s


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    try:
        out = fn()
    except GroundingError as exc:
        out = exc
    return out, (time.perf_counter() - start) * 1000


def measure(app: str, targets: list[str], repeat: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"bench-a11y-{app}-") as t, app_session(app, Path(t)) as s:
        reader = s.tree_reader
        snaps = [reader.snapshot() for _ in range(repeat)]
        cold_ms = snaps[0].seconds * 1000
        snap_ms = statistics.median(x.seconds * 1000 for x in snaps[1:] or snaps)
        nodes = len(snaps[-1])
        frame = s.capture()
        image = frame.image
        view = reader.map(snaps[-1], image.size)
        truth = {}
        for target in targets:  # the widget's box: the tree's best node for the target
            found = tree_candidates(parse_target(target), view)
            if found:
                truth[target] = found[0].box
        rows: dict[str, dict[str, object]] = {}

        def tree_only(target: str, fresh: bool) -> object:
            v = reader.map(reader.snapshot(), image.size) if fresh else view
            found = tree_candidates(parse_target(target), v)
            if not found:
                raise GroundingError("not in the tree", target=target)
            return found[0].box.center

        ocr = Grounder(second_look=2.0)
        fused = Grounder(second_look=2.0, tree=reader)
        runners: dict[str, Callable[[str, bool], object]] = {
            "tree": tree_only,
            "ocr": lambda target, fresh: _point(ocr.locate(target, image)),
            "fused": lambda target, fresh: _point(fused.locate(target, image)),
        }
        for name, run in runners.items():
            hits, found, times, first = 0, 0, [], 0.0
            for i, target in enumerate(targets):
                point, ms = timed(lambda run=run, target=target, i=i: run(target, i == 0))
                if i == 0:
                    first = ms
                times.append(ms)
                box = truth.get(target)
                found += isinstance(point, tuple)
                if isinstance(point, tuple) and box is not None and box.contains_point(*point):
                    hits += 1
            rows[name] = {"hits": hits, "found": found, "first": first, "median": statistics.median(times),
                          "p95": sorted(times)[int(0.95 * (len(times) - 1))]}  # fmt: skip
        return {"snapshot_ms": snap_ms, "cold_ms": cold_ms, "nodes": nodes, "rows": rows, "targets": len(targets),
                "truth": len(truth)}  # fmt: skip


def _point(g: object) -> tuple[int, int]:
    return g.x, g.y  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="snapshots per app for the median")
    parser.add_argument("--apps", default=",".join(APPS))
    args = parser.parse_args()
    print("accessibility tree vs OCR, 1280x800 full desktop; in box = click point inside the "
          "toolkit's widget box")  # fmt: skip
    print(f"{'app':<13} {'nodes':>5} {'snapshot':>13}  {'grounder':<6} {'found':>6} {'in box':>7} "
          f"{'new frame':>10} {'lookup':>8} {'p95':>8}")  # fmt: skip
    totals: dict[str, list[int]] = {}
    for app in args.apps.split(","):
        if shutil.which(app.split("-")[0]) is None:
            print(f"{app:<11} not installed")
            continue
        r = measure(app, APPS[app], args.repeat)
        for k, (name, row) in enumerate(r["rows"].items()):  # type: ignore[attr-defined]
            head = (f"{app:<13} {r['nodes']:>5} {r['cold_ms']:>5.0f}/{r['snapshot_ms']:>4.0f}ms" if k == 0
                    else " " * 33)  # fmt: skip
            print(f"{head}  {name:<6} {row['found']:>6} {row['hits']:>3}/{r['targets']:<3} {row['first']:>8.0f}ms "
                  f"{row['median']:>6.1f}ms {row['p95']:>6.0f}ms")  # fmt: skip
            got = totals.setdefault(name, [0, 0])
            got[0] += int(row["hits"])
            got[1] += int(r["targets"])  # type: ignore[call-overload]
    print("all apps, in box: " + ", ".join(f"{k} {h}/{n} = {h / max(n, 1):.1%}" for k, (h, n) in totals.items()))
    print("(ocr in box / ocr found = how often OCR and the tree agree where both answer)")


if __name__ == "__main__":
    main()
