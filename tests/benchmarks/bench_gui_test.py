"""Wall time of a 20-step YAML test on the demo app: cold, with the grounding cache, and with
fixed waits in the style of SikuliX/Airtest scripts, side by side in one run.

All three run the same file through the same runner (fresh Xvfb + app each, OCR grounder):

- cold: the cache is empty (read-write), so every action target is grounded by OCR;
- cached: read-only over the cache the cold run wrote (targets checked by template match);
- fixed waits: no cache; before every action the pointer takes 0.5 s to move (SikuliX's
  MoveMouseDelay) and after it a fixed 1.0 s sleep replaces the settle wait.

Prints total wall time and per-step medians of locate, settle and act (seconds).
Run: ``python tests/benchmarks/bench_gui_test.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from screenagent.actions import Action  # noqa: E402
from screenagent.geometry import Frame  # noqa: E402
from screenagent.steplog import StepInfo  # noqa: E402
from screenagent.steps.runner import StepRunner  # noqa: E402
from screenagent.testing import runner  # noqa: E402
from screenagent.testing.spec import load_test_file  # noqa: E402

STEPS = """
      - type: "Ada"
        into: "Name"
      - type: "ada@example.org"
        into: "Email"
      - click: "Subscribe to news"
      - click: "Submit"
      - expect_visible: "Thank you, Ada!"
      - click: "Clear"
      - expect_visible: "Cleared"
      - click: "Refresh"
      - click: "Open report"
      - expect_visible: "Report opened"
      - wait_until_gone: "Open report"
      - click: "Submit"
      - expect_error: "Name is required."
      - click: "OK"
      - wait_until_gone: "OK"
      - type: "Grace"
        into: "Name"
      - press: tab
      - type: "grace@example.org"
      - click: "Submit"
      - expect_visible: "Thank you, Grace!"
"""


def fixed_wait_act(self: StepRunner, info: StepInfo, actions: list[Action], frame: Frame) -> None:
    """Acts like a SikuliX/Airtest script: a slow pointer move, then a fixed sleep."""
    for action in actions:
        time.sleep(0.5)  # MoveMouseDelay
        self.executor.execute(action, frame)
    time.sleep(1.0)
    info.settle += 1.0


def run_once(
    path: Path, report: Path, cache_mode: str, cache: Path, fixed: bool
) -> tuple[float, list[dict[str, Any]]]:
    tf = load_test_file(path)
    opts = runner.RunOptions(report_dir=report, cache_mode=cache_mode, cache_path=cache)  # type: ignore[arg-type]
    original = StepRunner.act
    if fixed:
        StepRunner.act = fixed_wait_act  # type: ignore[method-assign]
    try:
        start = time.monotonic()
        results = runner.run_tests([tf], opts)
        wall = time.monotonic() - start
    finally:
        StepRunner.act = original  # type: ignore[method-assign]
    (result,) = results
    if result.status != "passed":
        raise SystemExit(f"the benchmark test failed: {result.message}")
    return wall, result.attempts[-1].steps


def medians(steps: list[dict[str, Any]]) -> str:
    def med(key: str) -> float:
        return statistics.median(s.get(key, 0.0) for s in steps)

    return f"locate {med('locate_s'):.3f} · settle {med('settle_s'):.3f} · act {med('act_s'):.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    with TemporaryDirectory() as tmp:
        t = Path(tmp)
        path = t / "bench.yaml"
        path.write_text(
            "name: bench\napp:\n"
            f'  launch: ["{sys.executable}", "{ROOT / "examples" / "demo_app.py"}"]\n'
            '  ready: "Submit"\ntests:\n  - name: twenty steps\n    steps:' + STEPS
        )
        assert len(load_test_file(path).tests[0].steps) == 20
        rows: dict[str, list[tuple[float, list[dict[str, Any]]]]] = {
            "cold": [],
            "cached": [],
            "fixed waits": [],
        }
        for i in range(args.runs):
            cache = t / f"cache-{i}.json"
            rows["cold"].append(run_once(path, t / f"r{i}a", "read-write", cache, False))
            rows["cached"].append(run_once(path, t / f"r{i}b", "read-only", cache, False))
            rows["fixed waits"].append(run_once(path, t / f"r{i}c", "off", cache, True))
        cached_hits = sum(s.get("grounded_by") == "cache" for _, st in rows["cached"] for s in st)
        print(f"20-step YAML test on the demo app, OCR grounder, {args.runs} runs each, "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        base = statistics.median(w for w, _ in rows["cold"])
        for name, runs in rows.items():
            walls = [w for w, _ in runs]
            steps = [s for _, st in runs for s in st]
            wall = statistics.median(walls)
            print(f"{name:12s} wall median {wall:6.2f} s (runs: {', '.join(f'{w:.2f}' for w in walls)})"
                  f"  x{wall / base:.2f} of cold · per step median: {medians(steps)}")  # fmt: skip
        print(f"steps grounded from the cache in the cached runs: {cached_hits}")


if __name__ == "__main__":
    main()
