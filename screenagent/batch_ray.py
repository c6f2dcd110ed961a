"""Batch tasks on a Ray cluster: one actor per desktop session, reused across tasks.

``--ray local`` starts a Ray on this machine (for trying it; ended with the batch);
``--ray auto`` joins the cluster this machine belongs to; ``--ray HOST:PORT`` (or
``ray://HOST:PORT``) joins that one, after checking that it answers. ``--workers N`` actors run
at once (the concurrency cap); each owns a desktop (`screenagent.batch.DesktopWorker`) on the
node Ray places it, asks one CPU, and runs one task at a time. An actor that dies (its node
lost, its process killed) is replaced and its task runs again once; a desktop that dies inside
a live actor is restarted by the actor itself, and that task too runs again once.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from .batch import (
    INFRA,
    BatchError,
    BatchOptions,
    BatchTask,
    DesktopWorker,
    Outcome,
    Retries,
    slug,
)
from .errors import MissingDependency


class DesktopActor:
    """The Ray actor: a `DesktopWorker` in its own process."""

    def __init__(self, options: BatchOptions) -> None:
        self.worker = DesktopWorker(options)

    def run(self, task_json: str, attempt: int) -> dict[str, Any]:
        return asdict(self.worker.run(BatchTask.model_validate_json(task_json), attempt))

    def close(self) -> None:
        self.worker.close()


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingDependency("Ray", "--ray needs it: pip install 'screenagent[ray]'") from None
    return ray


def _answers(address: str, timeout: float = 3.0) -> bool:
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def connect(address: str, workers: int) -> tuple[Any, bool]:
    """Ray, initialised; and whether this batch started it (then it ends it)."""
    ray = _import_ray()
    if address == "local":
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)  # fmt: skip
        return ray, True
    if address != "auto" and not _answers(address):
        raise BatchError(f"the Ray cluster at {address} does not answer: is it running (`ray start --head` "
                         "prints its address), and is the address HOST:PORT of its GCS?")  # fmt: skip
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError) as exc:
        raise BatchError(f"cannot join the Ray cluster at {address}: {exc}") from None
    return ray, False


def run_ray(tasks: list[BatchTask], options: BatchOptions, workers: int, address: str = "local") -> Iterator[Outcome]:
    """Run the tasks on ``workers`` actors; yields each result as it arrives."""
    ray, started = connect(address, workers)
    remote = ray.remote(num_cpus=1)(DesktopActor)
    actors = [remote.remote(options) for _ in range(workers)]
    idle = list(actors)
    todo = [(t, 1) for t in tasks]
    retries = Retries()
    running: dict[Any, tuple[Any, BatchTask, int]] = {}
    try:
        while todo or running:
            while todo and idle:
                task, attempt = todo.pop(0)
                actor = idle.pop(0)
                running[actor.run.remote(task.model_dump_json(), attempt)] = (actor, task, attempt)
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                actor, task, attempt = running.pop(ref)
                try:
                    outcome = Outcome(**ray.get(ref))
                    idle.append(actor)
                except ray.exceptions.RayActorError as exc:  # the actor (and its desktop) is gone
                    outcome = Outcome(id=task.id, status=INFRA, reason=INFRA, seconds=0.0, attempt=attempt,
                                      run_dir=f"runs/{slug(task.id)}/attempt-{attempt}",
                                      message=f"the Ray actor died ({type(exc).__name__})")  # fmt: skip
                    idle.append(remote.remote(options))
                    actors.append(idle[-1])
                final = retries.final(outcome)
                if final is None:
                    todo.insert(0, (task, attempt + 1))
                    continue
                yield final
    finally:
        for actor in actors:
            with contextlib.suppress(Exception):  # a dead actor has nothing left to close
                ray.get(actor.close.remote(), timeout=30)
            ray.kill(actor)
        if started:
            ray.shutdown()
