"""A run directory as the report shows it: records grouped by the step they belong to, with
their pictures written to ``report/`` beside the log."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ..steplog import LoadedRun, RunMeta, StepInfo, StepRecord, load_run
from .images import THUMB_WIDTH, annotate, content_box, marks, save_jpeg, zoom_of

FAILED = {"invalid", "failed", "error", "soft-failed"}


@dataclass
class RecordView:
    """One step-log record: an action (or a check) and the frame it acted on."""

    record: StepRecord
    title: str
    alt: str
    timings: str
    image: str | None = None
    full: str | None = None
    thumb: str | None = None
    zoom: str | None = None
    """The zoom-in pass in words (both answers; the picture draws the window and the first)."""
    zoom_raw: str = ""

    @property
    def failed(self) -> bool:
        return self.record.status in FAILED


def zoom_words(zoom: dict[str, Any]) -> str:
    """A zoom-in pass in words, for the report."""
    (fx, fy), window = zoom["first"], zoom["window"]
    head = f"zoom ×{float(zoom.get('magnification') or 0):.2f}: first answer ({fx}, {fy}), asked again on {window}"
    second = zoom.get("second")
    return f"{head} → ({second[0]}, {second[1]})" if second else f"{head}; {zoom.get('note', '')}"


@dataclass
class StepView:
    """A step as a person wrote it (``click 'Save'``) and the records it produced; a model's
    action is a step of its own."""

    number: int
    text: str
    status: str
    info: StepInfo | None
    records: list[RecordView] = field(default_factory=list)
    after: str | None = None
    after_full: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED


@dataclass
class RunView:
    path: Path
    meta: RunMeta
    steps: list[StepView]
    records: int
    damaged: list[int]

    @property
    def settings(self) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in self.meta.settings.items() if v not in (None, False, "")]

    @property
    def versions(self) -> str:
        return " · ".join(f"{k} {v}" for k, v in self.meta.versions.items())


def describe(step: StepRecord) -> str:
    """The action in words (the raw form for a hand-edited log)."""
    from ..actions import describe as words
    from ..actions import parse_action

    if not step.action:
        return step.step.text if step.step is not None else step.status
    try:
        return words(parse_action(step.action))
    except ValueError:  # a pydantic ValidationError: a hand-edited log
        return json.dumps(step.action, ensure_ascii=False)


def _timings(step: StepRecord) -> str:
    t = step.timings
    parts = [("capture", t.capture), ("decide", t.decide), ("check", t.check),
             ("execute", t.execute), ("settle", t.settle), ("log", t.log)]  # fmt: skip
    return " · ".join(
        f"{name} {v * 1000:.0f} ms" if v < 10 else f"{name} {v:.1f} s" for name, v in parts if v > 0
    )


def _pictures(run_dir: Path, view: RecordView) -> None:
    """Write the record's annotated crop, its full frame and its thumbnail."""
    step = view.record
    if not step.frame or not (run_dir / step.frame).exists():
        return
    n = step.index
    with Image.open(run_dir / step.frame) as frame:
        shot = annotate(frame, step)
    crop = shot.crop(content_box(shot, marks(step)))
    view.image, view.full, view.thumb = (f"report/step-{n:04d}.jpg", f"report/full-{n:04d}.jpg",
                                         f"report/thumb-{n:04d}.jpg")  # fmt: skip
    save_jpeg(crop, run_dir / view.image)
    save_jpeg(shot, run_dir / view.full)
    save_jpeg(crop, run_dir / view.thumb, width=THUMB_WIDTH, quality=70)


def _after(run_dir: Path, step: StepView, record: StepRecord) -> None:
    if not record.after or not (run_dir / record.after).exists():
        return
    n = record.index
    with Image.open(run_dir / record.after) as frame:
        full = frame.convert("RGB")
    step.after, step.after_full = f"report/after-{n:04d}.jpg", f"report/after-full-{n:04d}.jpg"
    save_jpeg(full.crop(content_box(full, [])), run_dir / step.after)
    save_jpeg(full, run_dir / step.after_full)


def run_view(run_dir: str | Path, run: LoadedRun | None = None) -> RunView:
    """Load a run directory and write its pictures (``report/``)."""
    run_dir = Path(run_dir)
    run = run or load_run(run_dir)
    (run_dir / "report").mkdir(exist_ok=True)
    steps: list[StepView] = []
    for record in run.steps:
        info = record.step
        if steps and info is not None and steps[-1].info is not None and steps[-1].number == info.number:
            current = steps[-1]
            current.info = info  # the latest view of the step's info
        else:
            current = StepView(number=info.number if info else record.index,
                               text=info.text if info else describe(record), status=record.status,
                               info=info)  # fmt: skip
            steps.append(current)
        title = describe(record)
        view = RecordView(record=record, title=title, alt=f"step {record.index}: {title}",
                          timings=_timings(record))  # fmt: skip
        zoom = zoom_of(record)
        if zoom:
            view.zoom, view.zoom_raw = zoom_words(zoom), str(zoom.get("raw") or "")
        _pictures(run_dir, view)
        current.records.append(view)
        current.status = (info.result if info is not None and info.result else record.status)
        _after(run_dir, current, record)
    return RunView(path=run_dir, meta=run.meta, steps=steps, records=len(run.steps),
                   damaged=run.damaged_lines)  # fmt: skip
