"""`screenagent batch` (issue 22, part 3): demo-app tasks on local workers and on a local Ray,
each worker on its own desktop session; results stream into results.jsonl, a rerun skips them,
a task whose desktop is killed runs again once, a failing task does not. Each task's effect is
read from the demo app's own state file, outside screenagent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, cli

from screenagent.batch import BatchError, finished_ids, load_tasks, tokens_of

DEMO = ROOT / "examples" / "demo_app.py"
NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald"]


def task(tmp: Path, tid: str, text: str) -> dict:
    return {"id": tid, "task": text, "app": [sys.executable, str(DEMO), "--state", str(tmp / f"{tid}.json")],
            "ready": "Submit", "max_steps": 20}  # fmt: skip


def submit(tmp: Path, tid: str, name: str) -> dict:
    return task(tmp, tid, f'type "{name}" into Name\nclick Submit\nexpect Thank you, {name}!')


def write(path: Path, tasks: list[dict]) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    return path


def results(out: Path) -> dict[str, dict]:
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert len(lines) == len({x["id"] for x in lines}), "one line per task"
    return {x["id"]: x for x in lines}


def submitted(tmp: Path, tid: str) -> list[str]:
    """The names the app received (its own state file)."""
    state = json.loads((tmp / f"{tid}.json").read_text())
    return [s["name"] for s in state["submitted"]]


# -- the tasks file -----------------------------------------------------------------------------


def test_bad_lines_are_reported_with_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text('{"id": "a", "task": "click Submit"}\n'
                    "not json\n"
                    '{"id": "b"}\n'
                    '{"id": "a", "task": "again"}\n'
                    '{"id": "c", "task": "x", "max_steps": 0, "colour": "red"}\n'
                    '{"id": "d", "task": "x", "grounder": "ocr"}\n'
                    "\n# a comment\n")  # fmt: skip
    with pytest.raises(BatchError) as err:
        load_tasks(path)
    text = str(err.value)
    for part in ("tasks.jsonl:2:", "tasks.jsonl:3: task: Field required", "tasks.jsonl:4: id 'a' is used",
                 "tasks.jsonl:5: max_steps", "colour", "tasks.jsonl:6: grounder needs planner", "--skip-bad"):  # fmt: skip
        assert part in text, text
    tasks, problems = load_tasks(path, skip_bad=True)
    assert [t.id for t in tasks] == ["a"] and len(problems) == 5
    proc = cli("batch", str(path), "--out", str(tmp_path / "out"), timeout=60)
    assert proc.returncode == 2 and "tasks.jsonl:3" in proc.stderr and not (tmp_path / "out").exists()


def test_results_file_helpers(tmp_path: Path) -> None:
    (tmp_path / "results.jsonl").write_text('{"id": "a", "status": "success"}\nbroken\n{"id": "b"}\n')
    assert finished_ids(tmp_path) == {"a", "b"}
    run = tmp_path / "run"
    run.mkdir()
    (run / "steps.jsonl").write_text(json.dumps({"attempts": [{"meta": {"prompt_tokens": 120, "completion_tokens": 9}},
                                                              {"meta": {}}]}) + "\n")  # fmt: skip
    assert tokens_of(run) == {"prompt": 120, "completion": 9}


# -- real runs ----------------------------------------------------------------------------------


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_local_workers_run_every_task_and_a_rerun_skips_them(tmp_path: Path) -> None:
    tasks = [submit(tmp_path, f"t{i}", n) for i, n in enumerate(NAMES)]
    tasks.append(task(tmp_path, "missing", "click Send now"))  # fails: no such button, never retried
    path = write(tmp_path / "tasks.jsonl", tasks)
    out = tmp_path / "out"
    proc = cli("batch", str(path), "--out", str(out), "--workers", "2", "--task-timeout", "120", timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    got = results(out)
    assert set(got) == {*(f"t{i}" for i in range(6)), "missing"}
    for i, name in enumerate(NAMES):
        assert got[f"t{i}"]["status"] == "success" and got[f"t{i}"]["attempt"] == 1, got[f"t{i}"]
        assert submitted(tmp_path, f"t{i}") == [name]  # the app itself received the form
        assert (out / got[f"t{i}"]["run_dir"] / "run.json").exists()
    assert got["missing"]["status"] == "failed" and got["missing"]["attempt"] == 1  # a task failure: not retried
    assert len({r["worker"] for r in got.values()}) == 2
    index = (out / "index.html").read_text()
    assert all(f'{got[t]["run_dir"]}/report.html' in index for t in got)
    assert "7 tasks run (0 already finished): 6 succeeded, 1 did not" in proc.stdout
    again = cli("batch", str(path), "--out", str(out), "--workers", "2", timeout=120)
    assert again.returncode == 0 and "0 tasks run (7 already finished)" in again.stdout
    assert len((out / "results.jsonl").read_text().splitlines()) == 7


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_a_task_whose_desktop_is_killed_runs_again_once(tmp_path: Path) -> None:
    slow = task(tmp_path, "slow", 'wait 6 seconds\ntype "Ada" into Name\nclick Submit\nexpect Thank you, Ada!')
    path = write(tmp_path / "tasks.jsonl", [slow])
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "screenagent", "batch", str(path), "--out", str(out), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        marker = out / "runs" / "slow" / "attempt-1" / "desktop.json"
        deadline = time.monotonic() + 60
        while not marker.exists() or not (out / "runs" / "slow" / "attempt-1" / "run.json").exists():
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        time.sleep(1.0)  # the task is in its wait
        os.kill(json.loads(marker.read_text())["xvfb_pid"], signal.SIGKILL)  # the batch's own Xvfb, by PID
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stdout + stderr
    (line,) = [json.loads(x) for x in stdout.splitlines()]  # --json: one result line on stdout
    assert line["status"] == "success" and line["attempt"] == 2, line
    assert len(line["infra"]) == 1 and "desktop died" in line["infra"][0]  # the first attempt's failure, kept
    assert submitted(tmp_path, "slow") == ["Ada"]  # once: the killed attempt never got to submit
    assert results(out)["slow"]["attempt"] == 2


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_ray_local_two_actors_run_every_task(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    path = write(tmp_path / "tasks.jsonl", [submit(tmp_path, f"r{i}", n) for i, n in enumerate(NAMES)])
    out = tmp_path / "out"
    proc = cli("batch", str(path), "--out", str(out), "--ray", "local", "--workers", "2", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = results(out)
    assert len(got) == 6 and all(r["status"] == "success" for r in got.values())
    assert all(submitted(tmp_path, f"r{i}") == [n] for i, n in enumerate(NAMES))
    assert len({r["worker"] for r in got.values()}) == 2  # two actors, each reusing its desktop


def test_an_unreachable_ray_cluster_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    path = write(tmp_path / "tasks.jsonl", [submit(tmp_path, "x", "Ada")])
    proc = cli("batch", str(path), "--out", str(tmp_path / "out"), "--ray", "127.0.0.1:9", timeout=60)
    assert proc.returncode == 2 and "does not answer" in proc.stderr, proc.stderr
