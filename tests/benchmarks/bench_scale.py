"""Scale-out on this machine: the same 8 YAML tests and the same 8 batch tasks at 1, 2 and 4
workers, and what one worker's desktop session costs in memory.

1. ``screenagent test DIR --workers W`` over 8 demo-app YAML tests (the contact-form file twice
   and two one-step files): wall time and tests per minute per W, side by side in one run.
2. ``screenagent batch TASKS --workers W`` over 8 step-follower tasks on the demo app (each
   worker reuses its desktop): wall time and tasks per minute per W.
3. Memory of one desktop session with the demo app on it: the proportional set size (PSS) of
   Xvfb, openbox, the two dbus-daemons, the accessibility bus launcher and the app, read from
   /proc; and the peak RSS of a batch worker process (Python, OCR models, the step runner)
   after it ran one task.

The ratios show where the cores saturate: on 2 cores, 4 workers cannot beat 2 by much.
Run: ``python tests/benchmarks/bench_scale.py [--workers 1 2 4]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DEMO = ROOT / "examples" / "demo_app.py"
NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John"]


def yaml_suite(folder: Path) -> Path:
    folder.mkdir(parents=True)
    form = (ROOT / "examples" / "gui_tests" / "test_contact_form.yaml").read_text()
    form = form.replace('"python3", "../demo_app.py"', f'"{sys.executable}", "{DEMO}"')
    (folder / "test_form_a.yaml").write_text(form)
    (folder / "test_form_b.yaml").write_text(form.replace("name: Contact form", "name: Contact form again"))
    for n, (target, shows) in enumerate((("Clear", "Cleared"), ("Refresh", "Refreshing"))):
        (folder / f"test_one_{n}.yaml").write_text(
            f'name: One step {n}\napp: {{launch: ["{sys.executable}", "{DEMO}"], ready: "Submit"}}\n'
            f'tests:\n  - name: {target}\n    steps:\n      - click: "{target}"\n      - expect_visible: "{shows}"\n'
        )
    return folder


def batch_file(path: Path, state: Path) -> Path:
    lines = [{"id": f"t{i}", "task": f'type "{n}" into Name\nclick Submit\nexpect Thank you, {n}!',
              "app": [sys.executable, str(DEMO), "--state", str(state / f"t{i}.json")], "ready": "Submit"}
             for i, n in enumerate(NAMES)]  # fmt: skip
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def timed(argv: list[str]) -> tuple[float, int]:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "screenagent", *argv], capture_output=True, text=True,
                          timeout=1800, cwd=ROOT)  # fmt: skip
    return time.monotonic() - start, proc.returncode


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def desktop_memory() -> None:
    from screenagent.batch import BatchOptions, DesktopWorker

    print("\n3. memory of one worker's desktop session (demo app on it)")
    with TemporaryDirectory() as tmp:
        worker = DesktopWorker(BatchOptions(out=Path(tmp), base_dir=ROOT))
        vd = worker.desktop()
        app = subprocess.Popen([sys.executable, str(DEMO), "--state", str(Path(tmp) / "s.json")],
                               env=dict(vd.env), stdin=subprocess.DEVNULL)  # fmt: skip
        time.sleep(3)
        parts = {"Xvfb": vd.pid, "demo app (python3 + Tk)": app.pid}
        for proc in vd.desktop.procs if vd.desktop else []:  # openbox, the buses
            args = proc.args if isinstance(proc.args, list) else [str(proc.args)]
            parts[f"{Path(str(args[0])).name} (pid {proc.pid})"] = proc.pid
        total = 0
        for name, pid in parts.items():
            kib = pss_kib(pid)
            total += kib
            print(f"   {name:28s} PSS {kib / 1024:7.1f} MiB")
        print(f"   {'desktop + app':28s} PSS {total / 1024:7.1f} MiB")
        app.terminate()
        app.wait(timeout=10)
        worker.close()
    code = (
        "import json, resource, sys, pathlib\n"
        "from screenagent.batch import BatchOptions, BatchTask, DesktopWorker\n"
        f"w = DesktopWorker(BatchOptions(out=pathlib.Path({tmp!r} + '-w'), base_dir=pathlib.Path({str(ROOT)!r})))\n"
        f"t = BatchTask(id='m', task='click Clear\\nexpect Cleared', app=[sys.executable, {str(DEMO)!r}], ready='Submit')\n"
        "o = w.run(t)\nw.close()\n"
        "print(json.dumps({'status': o.status, 'maxrss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    try:
        data = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"   {'batch worker process':28s} peak RSS {data['maxrss_kib'] / 1024:7.1f} MiB "
              f"(after one task: {data['status']})")  # fmt: skip
    except (ValueError, IndexError):
        print(f"   batch worker process: could not measure ({out.stderr[-300:]})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs; 8 YAML tests, 8 batch tasks")
    with TemporaryDirectory() as tmp:
        base = Path(tmp)
        suite = yaml_suite(base / "suite")
        print("\n1. screenagent test --workers W (8 YAML tests, a fresh Xvfb + app per test)")
        first = None
        for w in args.workers:
            wall, rc = timed(["test", str(suite), "--workers", str(w), "--report", str(base / f"r{w}")])
            first = first or wall
            print(f"   W={w}: {wall:6.1f} s, {8 / wall * 60:5.1f} tests/min, x{first / wall:.2f} of W={args.workers[0]}"
                  + ("" if rc == 0 else f"  (exit {rc}!)"))  # fmt: skip
        print("\n2. screenagent batch --workers W (8 tasks, one desktop per worker, a fresh app per task)")
        first = None
        for w in args.workers:
            state = base / f"state{w}"
            state.mkdir()
            tasks = batch_file(base / f"tasks{w}.jsonl", state)
            wall, rc = timed(["batch", str(tasks), "--out", str(base / f"b{w}"), "--workers", str(w)])
            first = first or wall
            print(f"   W={w}: {wall:6.1f} s, {8 / wall * 60:5.1f} tasks/min, x{first / wall:.2f} of W={args.workers[0]}"
                  + ("" if rc == 0 else f"  (exit {rc}!)"))  # fmt: skip
    desktop_memory()


if __name__ == "__main__":
    main()
