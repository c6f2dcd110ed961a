"""The tools of `screenagent mcp` (see `screenagent.mcp_server`). Each one runs on the
desktop's thread through the same `Session` as ``screenagent run``; a failure is a tool error
(``isError``) with the step's own message, and the server keeps answering."""

from __future__ import annotations

import shlex
import subprocess
import time
from typing import Any, Literal

from .mcp_server import Desktop, _step_result, screenshot_png


def register(server: Any, desktop: Desktop, *, Image: Any, read_only: Any, acts: Any) -> None:  # noqa: C901
    from .actions import Click, Drag, Scroll
    from .steplog import StepInfo

    def act_at(text: str, verb: str, action: Any) -> dict[str, Any]:
        """An action at screenshot coordinates, through the runner's one action path."""
        s = desktop.s()
        r = s.runner
        before = len(r.records)
        info = StepInfo(number=len(r.steps) + 1, text=text, verb=verb, phase="mcp")
        r.steps.append(info)
        r.act(info, [action], s.capture())
        info.result = "passed"
        return _step_result(desktop, info, before)

    def step(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        s = desktop.s()
        before = len(s.runner.records)
        info = fn(s)(*args, **kwargs)
        return _step_result(desktop, info, before)

    def frame_xy(x: float, y: float) -> tuple[int, int]:
        return desktop.shot.to_frame(x, y)

    @server.tool(annotations=read_only, structured_output=False)
    async def screenshot(max_side: int = 1568, region: list[int] | None = None) -> list[Any]:
        """The screen as an image (PNG), at most ``max_side`` pixels on its long side and under
        1 MB. ``region`` [x, y, width, height] in pixels of the previous screenshot crops it.
        x/y arguments of the other tools are pixels of the image returned here."""

        def take() -> list[Any]:
            from .mcp_server import Shot

            frame = desktop.s().capture()
            image, left, top = frame.image, 0, 0
            if region:
                if len(region) != 4 or region[2] <= 0 or region[3] <= 0:
                    raise ValueError("region is [x, y, width, height] with a positive width and height")
                left, top = frame_xy(region[0], region[1])
                right, bottom = frame_xy(region[0] + region[2], region[1] + region[3])
                image = image.crop((left, top, min(right, image.width), min(bottom, image.height)))
            data, scale, shown = screenshot_png(image, max(64, max_side))
            desktop.shot = Shot(scale=scale, left=left, top=top)
            return [f"Screenshot {shown.width}x{shown.height} pixels of a {frame.width}x{frame.height} screen"
                    f"{f' (the region {region})' if region else ''}. x/y arguments of click, scroll and "
                    "drag are pixels of this image.", Image(data=data, format="png")]  # fmt: skip

        return await desktop.call(take)

    @server.tool(annotations=read_only)
    async def find(target: str) -> dict[str, Any]:
        """Where a target is on the screen now, in the step vocabulary: text ("Save"), a role
        ("button:Save", "field:Name"), a relation ("OK below Warning"), "#2" for the second match.
        Returns its box and point in screenshot pixels, who found it, its score and the other
        candidates."""

        def run() -> dict[str, Any]:
            g = desktop.s().find(target)
            sh = desktop.shot
            return {"text": g.text, "box": sh.box(g.box.as_list()), "point": sh.from_frame(g.x, g.y),
                    "grounder": g.grounded_by.value, "score": round(g.score, 3), "role": g.role,
                    "alternatives": [{"text": c.text, "point": sh.from_frame(*c.point), "score": round(c.score, 3)}
                                     for c in g.candidates[1:6]]}  # fmt: skip

        return await desktop.call(run)

    @server.tool(annotations=acts)
    async def click(target: str | None = None, x: float | None = None, y: float | None = None,
                    button: Literal["left", "right", "middle"] = "left", clicks: int = 1) -> dict[str, Any]:  # fmt: skip
        """Click a target (found as `find` does, waited for) or the point x/y of the last
        screenshot; ``clicks`` 2 double-clicks."""
        def run() -> dict[str, Any]:
            if (target is None) == (x is None or y is None):
                raise ValueError("give `target`, or both `x` and `y`")
            if target is not None:
                verb = "right_click" if button == "right" else "double_click" if clicks == 2 else "click"
                return step(lambda s: getattr(s, verb), target)
            fx, fy = frame_xy(x or 0, y or 0)
            return act_at(f"click at ({x:g}, {y:g})", "click", Click(x=fx, y=fy, button=button, clicks=clicks))

        return await desktop.call(run)

    @server.tool(annotations=acts)
    async def type_text(text: str, into: str | None = None, enter: bool = False, secret: bool = False) -> dict[str, Any]:
        """Type text where the keyboard focus is, or into a field (``into``: clicked, emptied,
        typed into and read back). ``enter`` presses Enter after; ``secret`` text never
        reaches the log."""
        return await desktop.call(step, lambda s: s.type, text, into=into, enter=enter, secret=secret)

    @server.tool(annotations=acts)
    async def press_keys(keys: str, times: int = 1) -> dict[str, Any]:
        """Press a key or a chord ("enter", "ctrl+s", "alt+f4"), ``times`` times."""
        return await desktop.call(step, lambda s: s.press, keys, times=times)

    @server.tool(annotations=acts)
    async def scroll(direction: Literal["up", "down", "left", "right"] = "down", amount: int = 3,
                     target: str | None = None, x: float | None = None, y: float | None = None) -> dict[str, Any]:  # fmt: skip
        """Scroll ``amount`` notches over a target, over x/y, or where the pointer is."""

        def run() -> dict[str, Any]:
            if x is not None and y is not None:
                fx, fy = frame_xy(x, y)
                return act_at(f"scroll {direction} at ({x:g}, {y:g})", "scroll",
                              Scroll(x=fx, y=fy, direction=direction, amount=amount))  # fmt: skip
            return step(lambda s: s.scroll, direction, amount=amount, in_=target)

        return await desktop.call(run)

    @server.tool(annotations=acts)
    async def drag(from_target: str | None = None, to_target: str | None = None, from_x: float | None = None,
                   from_y: float | None = None, to_x: float | None = None, to_y: float | None = None) -> dict[str, Any]:  # fmt: skip
        """Drag from a target (or from_x/from_y) to a target (or to_x/to_y)."""

        def run() -> dict[str, Any]:
            if from_target is not None and to_target is not None:
                return step(lambda s: s.drag, from_target, to_target)
            if None in (from_x, from_y, to_x, to_y):
                raise ValueError("give from_target and to_target, or from_x, from_y, to_x and to_y")
            a, b = frame_xy(from_x or 0, from_y or 0), frame_xy(to_x or 0, to_y or 0)
            return act_at(f"drag from ({from_x:g}, {from_y:g}) to ({to_x:g}, {to_y:g})", "drag",
                          Drag(x=a[0], y=a[1], to_x=b[0], to_y=b[1]))  # fmt: skip

        return await desktop.call(run)

    @server.tool(annotations=read_only)
    async def wait_for(target: str, gone: bool = False, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until a target is on the screen (``gone``: until it is not), up to ``timeout`` s."""
        verb = "wait_until_gone" if gone else "wait_for"
        return await desktop.call(step, lambda s: getattr(s, verb), target, timeout=timeout)

    @server.tool(annotations=read_only)
    async def read_text(region: list[int] | None = None) -> dict[str, Any]:
        """The text on the screen, line by line with boxes in screenshot pixels (no image: far
        fewer tokens than a screenshot). ``region`` [x, y, width, height] keeps lines inside it."""

        def run() -> dict[str, Any]:
            s = desktop.s()
            sh = desktop.shot
            lines = []
            for line in s.grounder.read(s.capture().image):
                box = sh.box(line.box.as_list())
                if region and not (region[0] <= box[0] and region[1] <= box[1] and box[2] <= region[0] + region[2]
                                   and box[3] <= region[1] + region[3]):  # fmt: skip
                    continue
                lines.append({"text": line.text, "box": box})
            return {"lines": lines, "text": "\n".join(ln["text"] for ln in lines)}

        return await desktop.call(run)

    @server.tool(annotations=read_only)
    async def read_errors() -> dict[str, Any]:
        """The errors on the screen now: dialogs, banners, inline messages, tracebacks."""

        def run() -> dict[str, Any]:
            found = desktop.s().read_errors()
            return {"errors": [{**f.model_dump(exclude={"box"}), "box": desktop.shot.box(f.box)}
                               for f in found]}  # fmt: skip

        return await desktop.call(run)

    @server.tool(annotations=read_only)
    async def list_windows() -> dict[str, Any]:
        """The top-level windows, bottom to top: title, box (screen pixels), class, pid."""

        def run() -> dict[str, Any]:
            from .windows import list_windows as windows

            return {"windows": [{"title": w.title, "box": w.box, "class": list(w.wm_class), "pid": w.pid,
                                 "types": list(w.types)} for w in windows(desktop.s().display)]}  # fmt: skip

        return await desktop.call(run)

    @server.tool(annotations=read_only, structured_output=False)
    async def accessibility_tree() -> str:
        """The accessibility tree of the apps on the screen, one line per useful element:
        role, name, states, value and box. Apps without one (Tk) say so."""
        return await desktop.call(lambda: desktop.s().tree().render())

    @server.tool(annotations=acts)
    async def run_steps(task: str) -> dict[str, Any]:
        """Run steps of the step-follower ("click Save; type 'a.txt' into Name; press enter;
        wait for Saved"): the result, each step's outcome and the run directory."""

        def run() -> dict[str, Any]:
            from .steps import parse_task

            steps = parse_task(task)
            s = desktop.s()
            before = len(s.runner.steps)
            result = s.run_parsed(steps)
            done = s.runner.steps[before:]
            return {"status": result.status, "message": result.message, "answer": result.answer,
                    "steps": [{"step": i.text, "result": i.result, "verified": i.verified, "message": i.message}
                              for i in done], "run_dir": str(s.log.path) if s.log else None}  # fmt: skip

        return await desktop.call(run)

    @server.tool(annotations=read_only)
    async def verify(expectation: str, timeout: float = 5.0) -> dict[str, Any]:
        """Check an expectation in the step vocabulary ("Saved is visible", "Name contains
        'Ada'", "Cancel is gone", "no errors", "the 'I agree' box is checked") until
        ``timeout`` s: a verdict (satisfied / unsatisfied) with what the screen showed."""

        def run() -> dict[str, Any]:
            from .steps.failures import StepFailed
            from .steps.text import parse_step

            text = expectation.strip()
            spec = parse_step(text if text.lower().startswith(("expect", "check", "verify", "assert"))
                              else f"expect {text}")  # fmt: skip
            if spec is None or spec.kind != "expect":
                raise ValueError(f"{expectation!r} is not an expectation: say what should be true, "
                                 "e.g. 'Saved is visible', \"Name contains 'Ada'\", 'no errors'")  # fmt: skip
            s = desktop.s()
            spec = spec.model_copy(update={"timeout": timeout})
            try:
                info = s.run(spec)
            except StepFailed as exc:
                info = exc.info
            seen = info.grounding
            shown = f"{seen.text!r} at {desktop.shot.from_frame(*seen.point)} ({seen.by})" if seen else ""
            return {"verdict": "satisfied" if info.result == "passed" else "unsatisfied",
                    "expectation": info.text, "evidence": info.message or info.read or info.reason or shown,
                    "run_dir": str(s.log.path) if s.log else None}  # fmt: skip

        return await desktop.call(run)

    @server.tool(annotations=acts)
    async def launch_app(command: str, ready: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """Start a program on the server's display (ended with the server); ``ready``: a target
        that shows it is ready, waited for up to ``timeout`` s."""

        def run() -> dict[str, Any]:
            s = desktop.s()
            proc = subprocess.Popen(shlex.split(command), env=s.child_env(), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
            desktop.apps.append(proc)
            out: dict[str, Any] = {"pid": proc.pid}
            if ready:
                out.update(step(lambda ss: ss.wait_for, ready, timeout=timeout))
            else:
                time.sleep(0.5)
            if proc.poll() is not None:
                raise RuntimeError(f"{command!r} exited at once with status {proc.returncode}")
            return out

        return await desktop.call(run)
