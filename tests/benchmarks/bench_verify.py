"""What the error watch and the read-backs cost: the README demo task (our Tk app) and the
real-app corpus, each run twice side by side in one run: "checked" (the defaults: errors
watched after each acting step, the final screen watched for the grace period, typed text read
back, toggles verified) and "trusting" (no watch, no read-back). Prints seconds per run and per
step, the watch's own seconds and how it read (unchanged frames, frames the grounder had read, frames it read).

Run: ``python tests/benchmarks/bench_verify.py [--grace 2] [--tasks demo,gtk-calculator,...]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from apps import corpus  # noqa: E402

from screenagent import Session  # noqa: E402


def demo(tmp: Path, checked: bool, grace: float) -> tuple[float, int, object]:
    task = (ROOT / "examples" / "demo_task.txt").read_text(encoding="utf-8")
    argv = [sys.executable, str(ROOT / "examples" / "demo_app.py"), "--state", str(tmp / "state.json")]
    with Session(virtual_display="1280x800", launch=argv, ready="Submit", cwd=ROOT, failsafe=False,
                 error_grace=grace) as s:  # fmt: skip
        runner = s.runner
        if not checked:
            runner.errors, runner.verify = None, False
        start = time.monotonic()
        result = s.run_parsed(__import__("screenagent.steps.text", fromlist=["parse_task"]).parse_task(task))
        seconds = time.monotonic() - start
        assert result.status == "success", result
        return seconds, len(runner.steps), runner.errors.stats if runner.errors else None


class _Patch:
    """Corpus tasks build their own Sessions: wrap Session to switch the checks off."""

    def __init__(self, checked: bool, grace: float) -> None:
        self.checked, self.grace, self.steps, self.stats = checked, grace, 0, None

    def __call__(self, **kw: object) -> Session:
        s = Session(**{**kw, "error_grace": self.grace})  # type: ignore[arg-type]
        outer = self
        original = Session._new_runner

        def new_runner(self_: Session, log: object, *, watch: bool = True) -> object:
            r = original(self_, log, watch=watch)  # type: ignore[arg-type]
            if not outer.checked:
                r.errors, r.verify = None, False
            outer.runner = r
            return r

        s._new_runner = new_runner.__get__(s)  # type: ignore[method-assign]
        return s


def corpus_task(name: str, tmp: Path, checked: bool, grace: float) -> tuple[float, int, object]:
    patch = _Patch(checked, grace)
    corpus.Session = patch  # type: ignore[assignment]
    start = time.monotonic()
    outcome = corpus.TASKS[name][1](tmp)
    seconds = time.monotonic() - start
    runner = getattr(patch, "runner", None)
    steps = len(runner.steps) if runner else 0
    if not outcome.ok:
        print(f"  ({name}: the outside check saw {outcome.seen})")
    return seconds, steps, runner.errors.stats if runner is not None and runner.errors else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grace", type=float, default=2.0)
    parser.add_argument("--tasks", default="demo," + ",".join(corpus.TASKS))
    args = parser.parse_args()
    print(f"error watch + read-backs vs none; final-screen grace {args.grace:g} s; 2 cores, 1280x800")
    print(f"{'task':<22} {'mode':<9} {'steps':>5} {'run s':>7} {'s/step':>7}  watch: s, unchanged/shared/own reads")
    for name in args.tasks.split(","):
        for checked in (True, False):
            with tempfile.TemporaryDirectory(prefix=f"bench-verify-{name}-") as t:
                if name == "demo":
                    seconds, steps, stats = demo(Path(t), checked, args.grace)
                else:
                    seconds, steps, stats = corpus_task(name, Path(t), checked, args.grace)
            watch = (f"{stats.seconds:.1f} s, {stats.unchanged}/{stats.shared_reads}/"  # type: ignore[attr-defined]
                     f"{stats.full_reads}" if stats else "-")  # type: ignore[attr-defined]  # fmt: skip
            print(f"{name:<22} {'checked' if checked else 'trusting':<9} {steps:>5} {seconds:>7.1f} "
                  f"{seconds / max(steps, 1):>7.2f}  {watch}")  # fmt: skip


if __name__ == "__main__":
    main()
