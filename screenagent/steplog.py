"""The run directory: a typed, append-only step log that survives a crash.

```
runs/<UTC timestamp>-<slug>/
  run.json        task, policy, executor, settings, versions, start/end, result
  steps.jsonl     one JSON line per step, flushed and fsynced when the step ends
  step-0001.png   the frame the policy saw at that step
```

``run.json`` is written when the run starts (status "running") and replaced atomically when
it ends; a run killed in between keeps status "running" and every completed step. Files are
read back through pydantic (`load_run`), since anything on disk may have been edited.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from . import __version__
from .errors import ConfigError
from .geometry import Frame
from .records import (
    Attempt,
    GroundingRecord,
    RunMeta,
    RunResult,
    RunStatus,
    SettleInfo,
    StepInfo,
    StepRecord,
    StepResultStatus,
    StepStatus,
    Timings,
    utc_now,
)

__all__ = [
    "Attempt", "GroundingRecord", "LoadedRun", "RunMeta", "RunResult", "RunStatus", "SettleInfo",
    "StepInfo", "StepLog", "StepRecord", "StepResultStatus", "StepStatus", "Timings", "load_run",
    "new_run_dir", "utc_now",
]  # fmt: skip

AFTER_JPEG_QUALITY = 85
"""The screen after a step (shown in reports, never compared by replay) is a JPEG."""
FRAME_PNG_COMPRESSION = 1
"""zlib level for step screenshots: level 1 writes a 1280x800 frame several times faster than
PIL's default (6) for files only somewhat larger."""


def _slug(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "run"


def new_run_dir(root: str | Path, task: str) -> Path:
    """A fresh ``<root>/<UTC timestamp>-<slug>`` directory (never reused)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    base = Path(root) / f"{stamp}-{_slug(task)}"
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")


def _versions() -> dict[str, str]:
    return {
        "screenagent": __version__,
        "python": platform.python_version(),
        "platform": f"{sys.platform} {platform.machine()}",
    }


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StepLog:
    """Writes one run directory.

    Args:
        path: The run directory; created if missing. It must not already hold a run.
        meta: What to write to ``run.json`` at the start.
        save_frames: Write the frame the policy saw at each step as ``step-NNNN.png``.
    """

    def __init__(self, path: str | Path, meta: RunMeta, *, save_frames: bool = True) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        if (self.path / "steps.jsonl").exists() or (self.path / "run.json").exists():
            raise ConfigError(
                f"{self.path} already holds a run; give a new --run-dir or remove the old one."
            )
        self.meta = meta.model_copy(update={"versions": {**_versions(), **meta.versions}})
        self.save_frames = save_frames
        self._steps = open(self.path / "steps.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="steplog-frames")
        self._pending: list[Future[None]] = []
        self._write_meta()

    @classmethod
    def create(
        cls,
        *,
        task: str,
        policy: str,
        executor: str,
        run_dir: str | Path | None = None,
        runs_root: str | Path = "runs",
        settings: dict[str, Any] | None = None,
    ) -> StepLog:
        """Open a log at ``run_dir`` exactly, or in a new timestamped folder of ``runs_root``."""
        path = Path(run_dir) if run_dir is not None else new_run_dir(runs_root, task)
        meta = RunMeta(
            task=task,
            policy=policy,
            executor=executor,
            started_at=utc_now(),
            settings=settings or {},
        )
        return cls(path, meta)

    def _write_meta(self) -> None:
        _write_atomic(self.path / "run.json", self.meta.model_dump_json(indent=2) + "\n")

    def set_screen(self, info: dict[str, Any]) -> None:
        self.meta = self.meta.model_copy(update={"screen": info})
        self._write_meta()

    def save_frame(self, index: int, frame: Frame, suffix: str = "") -> str | None:
        """Write the frame for step ``index``; returns its file name at once. The PNG (lossless:
        replay compares its pixels) is encoded on a worker thread while the step acts and
        settles; ``suffix="-after"`` (the settled screen, only for reports) is a JPEG."""
        if not self.save_frames:
            return None
        if suffix:
            name = f"step-{index:04d}{suffix}.jpg"
            work = lambda: frame.image.convert("RGB").save(self.path / name, quality=AFTER_JPEG_QUALITY)  # noqa: E731
        else:
            name = f"step-{index:04d}.png"
            work = lambda: frame.image.save(self.path / name, compress_level=FRAME_PNG_COMPRESSION)  # noqa: E731
        self._pending.append(self._encoder.submit(work))
        return name

    def _flush_frames(self) -> None:
        """Wait for the frames submitted so far (a line never names a frame not on disk)."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def append(self, record: StepRecord) -> None:
        """Add one step: a single line, flushed and fsynced before returning (after the frames
        it names are written)."""
        self._flush_frames()
        line = record.model_dump_json()
        self._steps.write(line + "\n")
        self._steps.flush()
        os.fsync(self._steps.fileno())

    def finish(self, result: RunResult) -> None:
        """Record how the run ended and close the files (safe to call twice)."""
        self._flush_frames()
        self._encoder.shutdown(wait=True)
        self.meta = self.meta.model_copy(update={"result": result, "ended_at": utc_now()})
        self._write_meta()
        if not self._steps.closed:
            self._steps.close()

    @property
    def finished(self) -> bool:
        return self._steps.closed

    def __enter__(self) -> StepLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self._encoder.shutdown(wait=True)
        if not self._steps.closed:
            self._steps.close()


class LoadedRun(BaseModel):
    """A run directory read back: for replay, reports and tests."""

    path: Path
    meta: RunMeta
    steps: list[StepRecord]
    damaged_lines: list[int] = Field(default_factory=list)
    """Line numbers of steps.jsonl that could not be parsed (a crash mid-write can leave at
    most one, the last)."""

    @property
    def finished(self) -> bool:
        return self.meta.result.status != "running"


def load_run(path: str | Path) -> LoadedRun:
    """Read a run directory; raises ConfigError if it is not one."""
    path = Path(path)
    try:
        meta = RunMeta.model_validate_json((path / "run.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} is not a run directory (no run.json).") from None
    except ValidationError as exc:
        raise ConfigError(f"{path / 'run.json'} is damaged: {exc.errors()[0]['msg']}") from None
    steps, damaged = [], []
    steps_file = path / "steps.jsonl"
    if steps_file.exists():
        with steps_file.open(encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    steps.append(StepRecord.model_validate(json.loads(line)))
                except (json.JSONDecodeError, ValidationError):
                    damaged.append(n)
    return LoadedRun(path=path, meta=meta, steps=steps, damaged_lines=damaged)
