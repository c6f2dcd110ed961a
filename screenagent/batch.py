"""`screenagent batch`: many tasks, each worker on a desktop session of its own.

A tasks file is JSON Lines, one task per line (`BatchTask`). Tasks run on workers: local
processes (``--workers N``) or Ray actors (`screenagent.batch_ray`). A worker owns one desktop
session (Xvfb, window manager, session and accessibility buses), reuses it task after task
(each task launches its own app, which is ended by PID afterwards) and starts a fresh one when
it died. A task whose desktop died under it is an infrastructure failure: it runs again, once,
on whichever worker is free. A task that ran and failed is a result, never retried.

Every result is appended to ``OUT/results.jsonl`` as it arrives (one JSON object per line:
id, status, exit reason, seconds, run directory, tokens); a rerun skips the ids already there.
``OUT/index.html`` links every task's run report.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import UserError

INFRA = "infrastructure"
"""The exit reason of a task whose desktop died under it."""
MAX_INFRA_RETRIES = 1


class BatchError(UserError):
    exit_code = 2


class BatchTask(BaseModel):
    """One line of a tasks file.

    Attributes:
        id: Unique in the file; names the task's run directory and its result line.
        task: Task text (steps for the step-follower, or a goal for a model).
        app: The program to start on the task's desktop (argv list), if any.
        ready: A target that shows the app is ready.
        cwd: The app's working folder (default: the tasks file's folder).
        model: A model spec that decides every action (``hf:...`` / ``openai:...``).
        family: The model's family when its name does not tell (``ui-tars-1.5`` ...).
        min_pixels, max_pixels: The image pixel budget (Qwen-resize families), as the
            server's own.
        planner, grounder: Composed mode (the grounder defaults to OCR).
        max_steps: Most actions the task may take.
        timeout: Seconds the task may take (default ``--task-timeout``).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    task: str = Field(min_length=1)
    app: list[str] | None = Field(default=None, min_length=1)
    ready: str | None = None
    cwd: str | None = None
    model: str | None = None
    family: str | None = None
    min_pixels: int | None = Field(default=None, ge=1)
    max_pixels: int | None = Field(default=None, ge=1)
    planner: str | None = None
    grounder: str | None = None
    max_steps: int = Field(default=30, ge=1, le=10_000)
    timeout: float | None = Field(default=None, gt=0)


def load_tasks(path: str | Path, *, skip_bad: bool = False) -> tuple[list[BatchTask], list[str]]:
    """The tasks of a JSONL file, and the problems of the lines that were skipped.

    Every bad line (not JSON, a field missing or wrong, an id seen before) is reported with its
    line number; without ``skip_bad`` any bad line is a `BatchError` and nothing runs."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BatchError(f"cannot read the tasks file {path}: {exc}") from None
    tasks: list[BatchTask] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            task = BatchTask.model_validate_json(line)
        except ValidationError as exc:
            what = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())
            problems.append(f"{path.name}:{n}: {what}")
            continue
        if task.id in seen:
            problems.append(f"{path.name}:{n}: id {task.id!r} is used by an earlier line")
            continue
        if task.grounder and not task.planner:
            problems.append(f"{path.name}:{n}: grounder needs planner")
            continue
        seen.add(task.id)
        tasks.append(task)
    if problems and not skip_bad:
        raise BatchError("bad lines in the tasks file (fix them, or --skip-bad to run the rest):\n"
                         + "\n".join(problems))  # fmt: skip
    return tasks, problems


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "task"


@dataclass
class BatchOptions:
    out: Path
    base_dir: Path
    task_timeout: float = 600.0
    display: str = "1280x800"
    base_url: str | None = None
    api_key: str | None = None


@dataclass
class Outcome:
    """One task's result line."""

    id: str
    status: str
    """success | failed | error (could not run) | infrastructure (its desktop died)."""
    reason: str
    """The run's exit reason (success, failure, max_steps, timeout, error_on_screen, ...)."""
    seconds: float
    run_dir: str
    """Relative to the batch's output folder."""
    attempt: int = 1
    message: str | None = None
    steps: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: {"prompt": 0, "completion": 0})
    worker: str = ""
    infra: list[str] = field(default_factory=list)
    """What went wrong with the infrastructure on earlier attempts (a desktop that died or did
    not start, a lost worker), oldest first."""


class Retries:
    """The one rule for both schedulers: an infrastructure failure runs again once (its
    message kept for the final result); anything else is final."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {}

    def final(self, outcome: Outcome) -> Outcome | None:
        """The outcome to report, or None when the task must run again."""
        past = self.seen.setdefault(outcome.id, [])
        if outcome.status == INFRA and outcome.attempt <= MAX_INFRA_RETRIES:
            past.append(f"attempt {outcome.attempt} on {outcome.worker or 'a lost worker'}: {outcome.message}")
            return None
        outcome.infra = list(past)
        return outcome


# --- a worker: one desktop session, many tasks ------------------------------------------------


class DesktopWorker:
    """Owns one desktop session in this process and runs tasks on it, one at a time."""

    def __init__(self, options: BatchOptions) -> None:
        self.options = options
        self.vd: Any = None
        self.models: dict[tuple[Any, ...], Any] = {}

    def alive(self) -> bool:
        return self.vd is not None and self.vd.proc is not None and self.vd.proc.poll() is None

    def desktop(self) -> Any:
        """The desktop, started (again, if it died); this process's environment points at it,
        so the step runner, the accessibility bus and launched apps all use it."""
        if not self.alive():
            self.close()
            from .display import VirtualDisplay, parse_size

            w, h, depth = parse_size(self.options.display)
            self.vd = VirtualDisplay(w, h, depth, desktop="full").start()
            os.environ.update(self.vd.env)
        return self.vd

    def close(self) -> None:
        if self.vd is not None:
            try:
                self.vd.stop()
            finally:
                self.vd = None

    def _model(self, spec: str | None, task: BatchTask, *, family_required: bool = True) -> Any:
        if spec is None:
            return None
        key = (spec, task.family, task.min_pixels, task.max_pixels, family_required)
        if key not in self.models:  # loaded once per worker
            from .models import load_model

            self.models[key] = load_model(spec, base_url=self.options.base_url, api_key=self.options.api_key,
                                          family=task.family, family_required=family_required,
                                          min_pixels=task.min_pixels, max_pixels=task.max_pixels)  # fmt: skip
        return self.models[key]

    @staticmethod
    def _skills(task: BatchTask) -> str:
        """The skills text a model's prompt gets, chosen for this task as `run` chooses it."""
        if not (task.model or task.planner):
            return ""
        from .cli.skills import skill_dirs
        from .skills import load_skills, prompt_context

        return prompt_context(task.task, list(load_skills(skill_dirs([])).values()))[0]

    def run(self, task: BatchTask, attempt: int = 1) -> Outcome:
        from .agent import Agent
        from .safety import Limits, Safety
        from .session import Session

        opts = self.options
        rel = Path("runs") / slug(task.id) / f"attempt-{attempt}"
        run_dir = opts.out / rel
        start = time.monotonic()
        worker = f"{os.uname().nodename}:{os.getpid()}"
        try:
            vd = self.desktop()
        except Exception as exc:
            return Outcome(id=task.id, status=INFRA, reason=INFRA, seconds=time.monotonic() - start,
                           run_dir=str(rel), attempt=attempt, message=f"the desktop did not start: {exc}",
                           worker=worker)  # fmt: skip
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "desktop.json").write_text(json.dumps({"display": vd.display, "xvfb_pid": vd.pid, "worker": worker}))
        limits = Limits(max_steps=task.max_steps, max_seconds=task.timeout or opts.task_timeout)
        status, reason, message, steps = "error", "error", None, 0
        try:
            agent = Agent(model=self._model(task.model, task),
                          planner=self._model(task.planner, task, family_required=False),
                          grounder=self._model(task.grounder, task), skills=self._skills(task),
                          safety=Safety.build(limits=limits))  # fmt: skip
            cwd = Path(task.cwd) if task.cwd else opts.base_dir
            with Session(display=vd.display, env=dict(vd.env), launch=task.app, ready=task.ready,
                         cwd=cwd if cwd.is_absolute() else opts.base_dir / cwd, run_dir=run_dir, task=task.task,
                         failsafe=False, safety=Safety.build(limits=limits)) as s:  # fmt: skip
                result = agent.run(task.task, session=s)
            status = "success" if result.success else "failed"
            reason, message, steps = result.status, result.message, result.steps
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
        if status != "success" and not self.alive():
            status, reason = INFRA, INFRA
            message = f"the desktop died during the task ({message})"
        return Outcome(id=task.id, status=status, reason=reason, seconds=round(time.monotonic() - start, 3),
                       run_dir=str(rel), attempt=attempt, message=message, steps=steps,
                       tokens=tokens_of(run_dir), worker=worker)  # fmt: skip


def tokens_of(run_dir: Path) -> dict[str, int]:
    """Prompt and completion tokens the run's model calls used (from its step log)."""
    total = {"prompt": 0, "completion": 0}
    path = run_dir / "steps.jsonl"
    if not path.exists():
        return total
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        for attempt in record.get("attempts") or []:
            meta = attempt.get("meta") or {}
            total["prompt"] += int(meta.get("prompt_tokens") or 0)
            total["completion"] += int(meta.get("completion_tokens") or 0)
    return total


# --- local workers ---------------------------------------------------------------------------

_WORKER: DesktopWorker | None = None


def _init_worker(options: BatchOptions) -> None:
    global _WORKER
    from multiprocessing.util import Finalize

    _WORKER = DesktopWorker(options)
    Finalize(_WORKER, _WORKER.close, exitpriority=10)  # the desktop ends with the process


def _run_in_worker(task_json: str, attempt: int) -> dict[str, Any]:
    if _WORKER is None:  # pragma: no cover - the pool's initializer always ran first
        raise RuntimeError("the batch worker was not initialised")
    return asdict(_WORKER.run(BatchTask.model_validate_json(task_json), attempt))


def run_local(tasks: list[BatchTask], options: BatchOptions, workers: int) -> Iterator[Outcome]:
    """Run the tasks on ``workers`` processes; yields each result as it arrives (an
    infrastructure failure is run again once before its result is final)."""
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool
    from multiprocessing import get_context

    todo = [(t, 1) for t in tasks]
    retries = Retries()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=_init_worker, initargs=(options,))  # fmt: skip
    running: dict[Future[dict[str, Any]], tuple[BatchTask, int]] = {}
    try:
        while todo or running:
            while todo and len(running) < workers:
                task, attempt = todo.pop(0)
                running[pool.submit(_run_in_worker, task.model_dump_json(), attempt)] = (task, attempt)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                task, attempt = running.pop(fut)
                try:
                    outcome = Outcome(**fut.result())
                except BrokenProcessPool as exc:  # a worker process died: all of its work is lost
                    outcome = Outcome(id=task.id, status=INFRA, reason=INFRA, seconds=0.0, attempt=attempt,
                                      run_dir=str(Path("runs") / slug(task.id) / f"attempt-{attempt}"),
                                      message=f"the worker process died ({exc})")  # fmt: skip
                    pool.shutdown(wait=False, cancel_futures=True)
                    todo = [*((t, a) for t, a in running.values()), *todo]
                    running.clear()
                    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                               initializer=_init_worker, initargs=(options,))  # fmt: skip
                final = retries.final(outcome)
                if final is None:  # the desktop died, not the task: once more, on any worker
                    todo.insert(0, (task, attempt + 1))
                    continue
                yield final
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- results ---------------------------------------------------------------------------------


def finished_ids(out: Path) -> set[str]:
    """Ids with a result line already (a rerun skips them)."""
    path = out / "results.jsonl"
    if not path.exists():
        return set()
    ids = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            ids.add(str(json.loads(line)["id"]))
        except (ValueError, KeyError, TypeError):
            continue
    return ids


def record(out: Path, outcome: Outcome) -> None:
    """Append one result line (flushed at once: a stopped batch keeps what finished)."""
    with (out / "results.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(asdict(outcome), ensure_ascii=False) + "\n")
        f.flush()


def write_index(out: Path) -> Path:
    """``index.html`` over every result line, each linking its run report."""
    from .report import _env, write_report

    rows = []
    path = out / "results.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        run_dir = out / row["run_dir"]
        if (run_dir / "run.json").exists():
            write_report(run_dir)
            row["report"] = f"{row['run_dir']}/report.html"
        rows.append(row)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    page = _env().get_template("batch.html.j2").render(rows=rows, counts=counts,
                                                       seconds=sum(r["seconds"] for r in rows))  # fmt: skip
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def run_batch(tasks: list[BatchTask], options: BatchOptions, *, workers: int,
              runner: Callable[..., Iterator[Outcome]] | None = None,
              on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:  # fmt: skip
    """Run the tasks not finished yet, stream their results into ``results.jsonl``, write the
    index; returns this run's results."""
    options.out.mkdir(parents=True, exist_ok=True)
    done = finished_ids(options.out)
    todo = [t for t in tasks if t.id not in done]
    results = []
    for outcome in (runner or run_local)(todo, options, workers):
        record(options.out, outcome)
        results.append(outcome)
        if on_result is not None:
            on_result(outcome)
    write_index(options.out)
    return results
