"""Per-step overhead of screenagent's loop next to a fixed-delay loop, on the demo app.

Both loops run the same 10-step flow on the same app, on a private 1280x800 Xvfb, in one
process, side by side:

- screenagent: capture (mss), validate, execute (pyautogui, PAUSE=0), settle (wait until the
  screen stops changing). The policy is a script, so its time is ~0 and excluded.
- fixed delay, in the style of peer agents: capture (mss), execute with pyautogui's default
  PAUSE (0.1 s after every call), then sleep 2.0 s after each action.

Every flow is checked against the app's state file (every step must land). Prints median and
p95 per-step overhead, the app's own reaction time (first visible change after the action),
and the ratio. Run: ``python tests/benchmarks/bench_loop.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from screenagent.actions import Action, Click, Drag, Key, Scroll, Type  # noqa: E402
from screenagent.agent import run  # noqa: E402
from screenagent.display import VirtualDisplay  # noqa: E402
from screenagent.policies import ScriptedPolicy  # noqa: E402
from screenagent.pyautogui_executor import PyAutoGUIExecutor  # noqa: E402
from screenagent.screen import MssScreen  # noqa: E402


def flow() -> list[Action]:
    """Ten actions that each change the demo app's state (coordinates from its fixed layout)."""
    return [
        Click(x=270, y=107),
        Type(text="Ada Lovelace"),
        Click(x=270, y=147),
        Type(text="ada@example.org"),
        Click(x=135, y=187),
        Click(x=180, y=235),
        Scroll(x=590, y=240, direction="down", amount=2),
        Click(x=520, y=128, clicks=2),
        Drag(x=60, y=392, to_x=370, to_y=402),
        Key(keys=["ctrl", "s"]),
    ]


def check_state(state: dict[str, Any]) -> list[str]:
    problems = []
    if state["name"] != "Ada Lovelace":
        problems.append(f"name={state['name']!r}")
    if state["email"] != "ada@example.org":
        problems.append(f"email={state['email']!r}")
    if len(state["submitted"]) != 1 or not state["submitted"][0]["subscribe"]:
        problems.append(f"submitted={state['submitted']}")
    if len(state["opened"]) != 1:
        problems.append(f"opened={state['opened']}")
    if not state["drops"] or not state["drops"][0]["in_target"]:
        problems.append(f"drops={state['drops']}")
    if state["saves"] != 1:
        problems.append(f"saves={state['saves']}")
    return problems


class App:
    def __init__(self, vd: VirtualDisplay, state_path: Path) -> None:
        self.state_path = state_path
        state_path.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "examples" / "demo_app.py"), "--state", str(state_path)],
            env=vd.env,
        )
        self.wait(lambda s: s.get("ready"))

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_path.read_text())

    def wait(self, pred: Any, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                state = self.state()
                if pred(state):
                    return state
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        return self.state()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def run_screenagent(
    vd: VirtualDisplay, tmp: Path, runs: int
) -> tuple[list[float], list[float], list[str]]:
    overheads, reactions, problems = [], [], []
    executor = PyAutoGUIExecutor(display=vd.display)
    for i in range(runs):
        app = App(vd, tmp / f"sa-{i}.json")
        records = []
        with MssScreen(display=vd.display) as screen:
            result = run("bench", screen=screen, policy=ScriptedPolicy(flow()), executor=executor,
                         on_step=records.append)  # fmt: skip
        state = app.wait(lambda s: s["saves"] == 1, timeout=5)
        problems += [f"screenagent run {i}: {p}" for p in check_state(state)]
        if not result.success:
            problems.append(f"screenagent run {i}: {result.status}")
        for r in records:
            if r.status != "executed":
                continue
            t = r.timings
            overheads.append(t.capture + t.check + t.execute + t.settle)
            if r.settle and r.settle.first_change is not None:
                reactions.append(r.settle.first_change)
        app.close()
    return overheads, reactions, problems


def run_fixed_delay(vd: VirtualDisplay, tmp: Path) -> tuple[list[float], list[str]]:
    executor = PyAutoGUIExecutor(display=vd.display, pause=0.1)  # pyautogui's default PAUSE
    app = App(vd, tmp / "fixed.json")
    overheads = []
    with MssScreen(display=vd.display) as screen:
        for action in flow():
            t = time.perf_counter()
            frame = screen.capture()
            executor.execute(action, frame)
            time.sleep(2.0)
            overheads.append(time.perf_counter() - t)
    state = app.wait(lambda s: s["saves"] == 1, timeout=5)
    problems = [f"fixed-delay: {p}" for p in check_state(state)]
    app.close()
    return overheads, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="screenagent flows to time (10 steps each)"
    )
    args = parser.parse_args()
    with VirtualDisplay(1280, 800) as vd, TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ours, reactions, problems = run_screenagent(vd, tmp, args.runs)
        fixed, fixed_problems = run_fixed_delay(vd, tmp)
    problems += fixed_problems
    ms = 1000
    print(f"per-step overhead on the demo app, 1280x800 Xvfb ({len(ours)} + {len(fixed)} steps)")
    print(
        f"  screenagent   median {statistics.median(ours) * ms:7.1f} ms   p95 {pct(ours, 0.95) * ms:7.1f} ms"
    )
    if reactions:
        print(f"    app reaction (first visible change) median {statistics.median(reactions) * ms:.1f} ms, "
              f"p95 {pct(reactions, 0.95) * ms:.1f} ms ({len(reactions)} of {len(ours)} steps changed the screen "
              "by more than 0.5%)")  # fmt: skip
    print(
        f"  fixed delay   median {statistics.median(fixed) * ms:7.1f} ms   p95 {pct(fixed, 0.95) * ms:7.1f} ms"
    )
    print(
        f"  ratio (fixed / screenagent, medians): {statistics.median(fixed) / statistics.median(ours):.1f}x"
    )
    print(f"  every step landed: {'yes' if not problems else 'NO'}")
    for p in problems:
        print(f"    {p}")
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
