"""The test vocabulary as methods: one object that clicks, types and asserts by target.

    gui = Gui(screen, executor, grounder)
    gui.type("ada", into="Username")
    gui.click("Apply")
    gui.expect_visible("Saved: ada")

Actions wait for their target (polling newer frames) and for the screen to settle, then act
on the newest frame; only locating is retried, never the action. Assertions poll until their
deadline. Every step is recorded (timings for locate, settle and act; the grounder; the box
and click point; before/after screenshots) for the report, and a failing step raises
StepFailed with a message that names the step, the target, the grounder, the best candidate
and its score, the timeout and the screenshot.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from PIL import Image, ImageDraw

from ..actions import Action, Click, Drag, Key, Move, Scroll, normalize_key
from ..errors import InvalidOutput
from ..executor import Executor
from ..geometry import Frame
from ..grounding import AmbiguousTarget, Grounding, GroundingError, TargetNotFound
from ..policies.steps import field_point, typing_actions, wait_for
from ..screen import Screen, SettleConfig, wait_until_settled
from .cache import GroundingCache
from .spec import DEFAULT_TIMEOUTS

Status = Literal["passed", "failed", "soft-failed", "skipped"]
JPEG_QUALITY = 72
POST_ACTION_SETTLE = SettleConfig(quiet_seconds=0.1, cap_seconds=3.0)
BEFORE_ACTION_SETTLE = SettleConfig(quiet_seconds=0.06, cap_seconds=2.0)


class Locator(Protocol):
    def locate(self, target: str, image: Image.Image) -> Grounding: ...


class Judge(Protocol):
    """Judges a statement about the screen (``expect:``); a VLM in practice."""

    def judge(self, statement: str, image: Image.Image) -> tuple[bool, str]: ...


@dataclass
class StepRecord:
    index: int
    label: str
    verb: str
    phase: str = "test"
    line: int | None = None
    status: Status = "passed"
    target: str | None = None
    grounded_by: str | None = None
    box: list[int] | None = None
    point: list[int] | None = None
    score: float | None = None
    timeout: float | None = None
    locate_s: float = 0.0
    settle_s: float = 0.0
    act_s: float = 0.0
    before: str | None = None
    after: str | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != {}}


class StepFailed(AssertionError):
    def __init__(self, record: StepRecord) -> None:
        super().__init__(record.error or record.label)
        self.record = record


class _Fail(Exception):
    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.detail = detail


class Gui:
    """Drive and check a GUI by targets in words (see the module docstring).

    Args:
        screen: Where frames come from (the test's display).
        executor: What performs actions (pyautogui on the test's display).
        grounder: OCR/image grounding (``screenagent.grounding.Grounder``).
        model: A grounding model for targets OCR cannot find (optional).
        judge: A VLM judge for ``expect`` statements (optional).
        cache: A grounding cache for action targets (optional).
        timeouts: Seconds per kind (action, expect, optional, wait), already scaled.
        artifacts: Folder for step screenshots (None: keep none).
    """

    def __init__(
        self,
        screen: Screen,
        executor: Executor,
        grounder: Any,
        *,
        model: Locator | None = None,
        judge: Judge | None = None,
        cache: GroundingCache | None = None,
        timeouts: dict[str, float] | None = None,
        artifacts: str | Path | None = None,
        grounder_id: str = "ocr",
    ) -> None:
        self.screen = screen
        self.executor = executor
        self.grounder = grounder
        self.model = model
        self.judge_model = judge
        self.cache = cache
        self.timeouts = {**DEFAULT_TIMEOUTS, **(timeouts or {})}
        self.artifacts = Path(artifacts) if artifacts is not None else None
        self.grounder_id = grounder_id + (f"+{getattr(model, 'name', 'model')}" if model else "")
        self.records: list[StepRecord] = []
        self.phase = "test"
        self.line: int | None = None
        self._errors: Any = None

    # -- bookkeeping ---------------------------------------------------------------------------

    @property
    def soft_failures(self) -> list[StepRecord]:
        return [r for r in self.records if r.status == "soft-failed"]

    def _save(self, image: Image.Image, rec: StepRecord, which: str) -> str | None:
        if self.artifacts is None:
            return None
        self.artifacts.mkdir(parents=True, exist_ok=True)
        name = f"step-{rec.index:03d}-{which}.jpg"
        shot = image.convert("RGB")
        if which == "before" and (rec.box or rec.point):
            draw = ImageDraw.Draw(shot)
            if rec.box and (rec.box[2] - rec.box[0]) > 2:
                draw.rectangle(rec.box, outline=(255, 0, 170), width=3)
            if rec.point:
                x, y = rec.point
                draw.ellipse((x - 7, y - 7, x + 7, y + 7), outline=(0, 140, 255), width=3)
                draw.line((x - 12, y, x + 12, y), fill=(0, 140, 255), width=2)
                draw.line((x, y - 12, x, y + 12), fill=(0, 140, 255), width=2)
        shot.save(self.artifacts / name, quality=JPEG_QUALITY)
        return name

    def _step(
        self,
        verb: str,
        label: str,
        body: Callable[[StepRecord], Frame | None],
        *,
        kind: str,
        target: str | None = None,
        timeout: float | None = None,
        optional: bool = False,
        soft: bool = False,
    ) -> StepRecord:
        if timeout is None:
            timeout = self.timeouts["optional" if optional else kind]
        rec = StepRecord(index=len(self.records) + 1, label=label, verb=verb, phase=self.phase,
                         line=self.line, target=target, timeout=timeout)  # fmt: skip
        self.records.append(rec)
        try:
            before = body(rec)
        except _Fail as exc:
            frame = exc.detail.pop("frame", None) or self.screen.capture()
            rec.detail.update(exc.detail)
            rec.before = self._save(frame.image, rec, "before")
            shot = (
                f" Screenshot: {self.artifacts / rec.before}."
                if rec.before and self.artifacts
                else ""
            )
            rec.error = f"step {rec.index} `{label}` failed: {exc}{shot}"
            rec.status = "skipped" if optional else "soft-failed" if soft else "failed"
            if rec.status == "failed":
                raise StepFailed(rec) from None
            return rec
        if before is not None:
            rec.before = self._save(before.image, rec, "before")
        if kind == "action" or verb == "screenshot":
            rec.after = self._save(self.screen.capture().image, rec, "after")
        return rec

    # -- locating ------------------------------------------------------------------------------

    def _ground(
        self, target: str, image: Image.Image, use_cache: bool, use_model: bool = True
    ) -> Grounding:
        """Cache (validated), then OCR/image grounding, then the model (for actions only: a
        grounding model always answers a point, so it cannot tell whether something is there)."""
        cache = self.cache if use_cache else None
        if cache is not None:
            check = cache.lookup(target, self.grounder_id, image)
            if check.grounding is not None:
                return check.grounding
        try:
            g = self.grounder.locate(target, image)
        except GroundingError:
            if self.model is None or not use_model:
                raise
            try:
                g = self.model.locate(target, image)
            except InvalidOutput as exc:
                raise TargetNotFound(
                    f"the model's answer for {target!r} was unusable: {exc} (raw: {exc.raw[:200]!r})",
                    target=target,
                ) from None
        if cache is not None:
            cache.store(self.grounder_id, image, g)
        return g

    def _by(self, target: str) -> str:
        """The grounder's name for messages (image targets are found by template matching)."""
        return "image matching" if target.startswith("image:") else self.grounder_id

    def _locate(
        self, rec: StepRecord, target: str, timeout: float, *, use_cache: bool = True
    ) -> tuple[Grounding, Frame]:
        start = time.monotonic()
        found, frame, meta = wait_for(
            lambda image: self._ground(target, image, use_cache), self.screen,
            self.screen.capture(), timeout=timeout, settle=BEFORE_ACTION_SETTLE,
        )  # fmt: skip
        rec.settle_s += float(meta.get("settle", 0.0))
        rec.locate_s += time.monotonic() - start - float(meta.get("settle", 0.0))
        if found is None:
            best = meta.get("candidates") or []
            why = meta.get("error") or "not found"
            raise _Fail(
                f"target {target!r} not found by {self._by(target)} within {timeout:g} s. {why}"
                + (f" Best candidate: {best[0]}." if best and best[0] not in why else ""),
                frame=frame, candidates=best, looks=meta.get("looks"),
            )  # fmt: skip
        rec.grounded_by = found.grounded_by
        rec.box = found.box.as_list()
        rec.point = [found.x, found.y]
        rec.score = round(found.score, 3)
        return found, frame

    def _act(self, rec: StepRecord, actions: list[Action], frame: Frame) -> None:
        start = time.monotonic()
        for action in actions:
            outcome = self.executor.execute(action, frame)
            if not outcome.ok:
                rec.act_s += time.monotonic() - start
                raise _Fail(f"{action.action} could not be performed: {outcome.error}", frame=frame)
        rec.act_s += time.monotonic() - start
        settled = wait_until_settled(self.screen, before=frame, config=POST_ACTION_SETTLE)
        rec.settle_s += settled.seconds
        if not settled.settled:
            rec.detail["warning"] = f"the screen kept changing for {settled.seconds:.1f} s"

    def _poll(
        self, timeout: float, check: Callable[[Frame], str | None]
    ) -> tuple[Frame, str | None]:
        """Call ``check`` on newer frames until it returns None (passed) or the deadline; the
        schedule backs off (0, 0.25, 0.5, 1, 2, 2 ... s) as grounding can be costly."""
        start = time.monotonic()
        delays = [0.25, 0.5, 1.0, 2.0]
        while True:
            frame = self.screen.capture()
            problem = check(frame)
            left = timeout - (time.monotonic() - start)
            if problem is None or left <= 0:
                return frame, problem
            time.sleep(min(delays.pop(0) if len(delays) > 1 else delays[0], left))

    # -- actions -------------------------------------------------------------------------------

    def _click_like(
        self, verb: str, target: str, make: Callable[[Grounding], Action], **opts: Any
    ) -> StepRecord:
        def body(rec: StepRecord) -> Frame:
            g, frame = self._locate(rec, target, rec.timeout or 0)
            self._act(rec, [make(g)], frame)
            return frame

        return self._step(verb, f"{verb} {target!r}", body, kind="action", target=target, **opts)

    def click(self, target: str, **opts: Any) -> StepRecord:
        return self._click_like("click", target, lambda g: Click(x=g.x, y=g.y), **opts)

    def double_click(self, target: str, **opts: Any) -> StepRecord:
        return self._click_like(
            "double_click", target, lambda g: Click(x=g.x, y=g.y, clicks=2), **opts
        )

    def right_click(self, target: str, **opts: Any) -> StepRecord:
        return self._click_like(
            "right_click", target, lambda g: Click(x=g.x, y=g.y, button="right"), **opts
        )

    def hover(self, target: str, **opts: Any) -> StepRecord:
        return self._click_like("hover", target, lambda g: Move(x=g.x, y=g.y), **opts)

    def type(
        self, text: str, *, into: str | None = None, clear: bool | None = None,
        enter: bool = False, secret: bool = False, **opts: Any,
    ) -> StepRecord:  # fmt: skip
        shown = "•" * 6 if secret else repr(text)
        label = f"type {shown}" + (f" into {into!r}" if into else "")

        def body(rec: StepRecord) -> Frame:
            frame = self.screen.capture()
            at = None
            if into is not None:
                g, frame = self._locate(rec, into, rec.timeout or 0)
                at = field_point(frame.image, g)
                rec.point = list(at)
            if secret:
                rec.detail["secret"] = True
            empty = clear if clear is not None else into is not None  # default: clear with `into`
            self._act(rec, typing_actions(text, at=at, clear=empty, enter=enter), frame)
            return frame

        return self._step("type", label, body, kind="action", target=into, **opts)

    def press(self, keys: str, *, times: int = 1, **opts: Any) -> StepRecord:
        chord = [normalize_key(k) for k in re.split(r"\s*\+\s*", keys.strip()) if k]

        def body(rec: StepRecord) -> Frame:
            frame = self.screen.capture()
            self._act(rec, [Key(keys=chord) for _ in range(times)], frame)
            return frame

        label = f"press {keys}" + (f" ×{times}" if times > 1 else "")
        return self._step("press", label, body, kind="action", **opts)

    def scroll(
        self, direction: str = "down", *, amount: int = 3, in_: str | None = None, **opts: Any
    ) -> StepRecord:
        def body(rec: StepRecord) -> Frame:
            frame = self.screen.capture()
            if in_ is not None:
                g, frame = self._locate(rec, in_, rec.timeout or 0)
                action: Action = Scroll(x=g.x, y=g.y, direction=direction, amount=amount)  # type: ignore[arg-type]
            else:
                action = Scroll(direction=direction, amount=amount)  # type: ignore[arg-type]
            self._act(rec, [action], frame)
            return frame

        label = f"scroll {direction} {amount}" + (f" in {in_!r}" if in_ else "")
        return self._step("scroll", label, body, kind="action", target=in_, **opts)

    def drag(self, from_: str, to: str, **opts: Any) -> StepRecord:
        def body(rec: StepRecord) -> Frame:
            a, _ = self._locate(rec, from_, rec.timeout or 0)
            box, point = rec.box, rec.point
            b, frame = self._locate(rec, to, rec.timeout or 0)
            rec.detail["to"] = {"box": rec.box, "point": rec.point}
            rec.box, rec.point = box, point
            self._act(rec, [Drag(x=a.x, y=a.y, to_x=b.x, to_y=b.y)], frame)
            return frame

        return self._step(
            "drag", f"drag {from_!r} to {to!r}", body, kind="action", target=from_, **opts
        )

    def sleep(self, seconds: float, **opts: Any) -> StepRecord:
        def body(rec: StepRecord) -> None:
            time.sleep(seconds)
            rec.detail["warning"] = "a fixed sleep: prefer wait_for / wait_until_gone"

        return self._step("sleep", f"sleep {seconds:g} s", body, kind="action", **opts)

    def screenshot(self, name: str = "screenshot", **opts: Any) -> StepRecord:
        return self._step(
            "screenshot", f"screenshot {name!r}", lambda rec: None, kind="action", **opts
        )

    # -- waits and assertions ------------------------------------------------------------------

    def _appear(self, verb: str, target: str, kind: str, **opts: Any) -> StepRecord:
        """Poll until the target is visible (several matches count as visible)."""

        def check(rec: StepRecord, frame: Frame) -> str | None:
            try:
                g = self._ground(target, frame.image, use_cache=False, use_model=False)
            except AmbiguousTarget as exc:
                g = None
                rec.detail["matches"] = [c.describe() for c in exc.candidates[:3]]
            except GroundingError as exc:
                return str(exc)
            if g is not None:
                rec.grounded_by, rec.box, rec.point = g.grounded_by, g.box.as_list(), [g.x, g.y]
                rec.score = round(g.score, 3)
            return None

        def body(rec: StepRecord) -> Frame:
            start = time.monotonic()
            frame, problem = self._poll(rec.timeout or 0, lambda f: check(rec, f))
            rec.locate_s = time.monotonic() - start
            if problem:
                raise _Fail(f"target {target!r} did not appear within {rec.timeout:g} s "
                            f"({self._by(target)}). {problem}", frame=frame)  # fmt: skip
            return frame

        return self._step(verb, f"{verb} {target!r}", body, kind=kind, target=target, **opts)

    def wait_for(self, target: str, **opts: Any) -> StepRecord:
        return self._appear("wait_for", target, "wait", **opts)

    def expect_visible(self, target: str, **opts: Any) -> StepRecord:
        return self._appear("expect_visible", target, "expect", **opts)

    def _gone(self, verb: str, target: str, kind: str, **opts: Any) -> StepRecord:
        def body(rec: StepRecord) -> Frame:
            start = time.monotonic()
            frame, problem = self._poll(
                rec.timeout or 0,
                lambda f: f"{target!r} is still visible" if self.grounder.is_visible(target, f.image) else None,
            )  # fmt: skip
            rec.locate_s = time.monotonic() - start
            if problem:
                raise _Fail(f"{problem} after {rec.timeout:g} s ({self._by(target)})", frame=frame)
            return frame

        return self._step(verb, f"{verb} {target!r}", body, kind=kind, target=target, **opts)

    def wait_until_gone(self, target: str, **opts: Any) -> StepRecord:
        return self._gone("wait_until_gone", target, "wait", **opts)

    def expect_not_visible(self, target: str, **opts: Any) -> StepRecord:
        return self._gone("expect_not_visible", target, "expect", **opts)

    def read_text(self, image: Image.Image, in_: str | None = None) -> str:
        """The screen's text (reading order, one line per OCR line), or the line holding
        ``in_``."""
        lines = self.grounder.read(image)
        if in_ is None:
            return "\n".join(line.text for line in lines)
        g = self.grounder.locate(in_, image)
        for line in lines:
            if line.box.contains_point(g.x, g.y):
                return str(line.text)
        return g.text

    def expect_text(
        self, *, in_: str | None = None, equals: str | None = None,
        contains: str | None = None, matches: str | None = None, **opts: Any,
    ) -> StepRecord:  # fmt: skip
        checks = [
            (k, v)
            for k, v in (("equals", equals), ("contains", contains), ("matches", matches))
            if v is not None
        ]
        if len(checks) != 1:
            raise ValueError("expect_text needs exactly one of equals, contains or matches")
        how, want = checks[0]
        label = "expect_text" + (f" in {in_!r}" if in_ else "") + f" {how} {want!r}"

        def check(frame: Frame) -> str | None:
            try:
                text = self.read_text(frame.image, in_)
            except GroundingError as exc:
                return str(exc)
            got, wanted = " ".join(text.split()), " ".join(want.split())  # whitespace only
            ok = (
                got == wanted if how == "equals"
                else wanted in got if how == "contains"
                else re.search(want, text) is not None
            )  # fmt: skip
            return None if ok else f"the text was {text!r}"

        def body(rec: StepRecord) -> Frame:
            start = time.monotonic()
            frame, problem = self._poll(rec.timeout or 0, check)
            rec.locate_s = time.monotonic() - start
            if problem:
                raise _Fail(f"expected text that {how} {want!r} within {rec.timeout:g} s; {problem}",
                            frame=frame)  # fmt: skip
            return frame

        return self._step("expect_text", label, body, kind="expect", target=in_, **opts)

    def expect_no_errors(
        self, *, warnings: bool = False, ignore: str | None = None, **opts: Any
    ) -> StepRecord:
        """No error on the screen (dialogs, banners, tracebacks: `screenagent.findings`), polled
        until the deadline. ``warnings``: warnings fail the step too; ``ignore``: a regex of
        titles or messages that do not count."""
        from ..findings import ErrorReader, read_frame

        if self._errors is None:
            self._errors = ErrorReader(getattr(self.grounder, "ocr", None))
        reader = self._errors
        display = getattr(self.screen, "display", None)
        pattern = re.compile(ignore) if ignore else None
        seen: list[Any] = []

        def check(frame: Frame) -> str | None:
            found = [
                f for f in read_frame(frame, display=display, reader=reader)
                if (warnings or f.severity == "error")
                and not (pattern and pattern.search(f"{f.title or ''}\n{f.message}"))
            ]  # fmt: skip
            seen[:] = found
            if not found:
                return None
            return "; ".join(f.one_line() for f in found)

        def body(rec: StepRecord) -> Frame:
            start = time.monotonic()
            frame, problem = self._poll(rec.timeout or 0, check)
            rec.locate_s = time.monotonic() - start
            rec.grounded_by = "ocr"
            rec.detail["findings"] = [f.model_dump() for f in seen]
            if problem is not None:
                n = len(seen)
                raise _Fail(f"{n} error{'s' * (n != 1)} on the screen after {rec.timeout:g} s: "
                            f"{problem}", frame=frame)  # fmt: skip
            return frame

        return self._step("expect_no_errors", "expect_no_errors", body, kind="expect", **opts)

    def expect(self, statement: str, **opts: Any) -> StepRecord:
        """A statement in words, judged by the VLM on the screen (polled until the deadline)."""
        if self.judge_model is None:
            raise ValueError(f"`expect: {statement}` needs a model: run with --model")
        judge = self.judge_model
        reasons: list[str] = []

        def check(frame: Frame) -> str | None:
            ok, reason = judge.judge(statement, frame.image)
            reasons.append(reason)
            return None if ok else reason

        def body(rec: StepRecord) -> Frame:
            start = time.monotonic()
            frame, problem = self._poll(rec.timeout or 0, check)
            rec.locate_s = time.monotonic() - start
            rec.grounded_by = "vlm"
            rec.detail["reason"] = reasons[-1] if reasons else ""
            if problem is not None:
                raise _Fail(f"the model judged {statement!r} false: {problem}", frame=frame)
            return frame

        return self._step("expect", f"expect {statement!r}", body, kind="expect", **opts)
