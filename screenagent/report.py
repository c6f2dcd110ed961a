"""The HTML report of a run: what the agent saw, where it acted, what the policy said.

``write_report(run_dir)`` writes ``report.html`` and, beside it in ``report/``, one annotated
JPEG per step (the click point and target box, the drag path, the scroll direction, the typed
text) plus a small thumbnail for the film strip. Everything is local and referenced by relative
paths; nothing is loaded from the internet. Text comes from the step log, where secrets are
already masked; the report escapes all of it.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from .steplog import LoadedRun, StepRecord, load_run

MAX_WIDTH = 1280
"""Annotated screenshots wider than this are scaled down (a report of hundreds of steps stays
small)."""
THUMB_WIDTH = 168
JPEG_QUALITY = 78

_STATUS_COLOURS = {
    "executed": "#1a7f37",
    "dry_run": "#0969da",
    "done": "#1a7f37",
    "skipped": "#9a6700",
    "invalid": "#cf222e",
    "failed": "#cf222e",
    "error": "#cf222e",
}
_RESULT_COLOURS = {"success": "#1a7f37", "running": "#9a6700"}


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow < 10.1
        return ImageFont.load_default()


def _target_box(step: StepRecord) -> list[int] | None:
    for attempt in reversed(step.attempts):
        grounding = attempt.meta.get("grounding") if isinstance(attempt.meta, dict) else None
        if isinstance(grounding, dict) and isinstance(grounding.get("box"), list):
            return [int(v) for v in grounding["box"]]
    return None


def _frame_points(step: StepRecord) -> list[tuple[int, int]]:
    a = step.action or {}
    points = []
    if "x" in a and a.get("x") is not None and a.get("y") is not None:
        points.append((int(a["x"]), int(a["y"])))
    if "to_x" in a:
        points.append((int(a["to_x"]), int(a["to_y"])))
    return points


def annotate(image: Image.Image, step: StepRecord) -> Image.Image:
    """Draw the step's action on a copy of the frame the policy saw."""
    img = image.convert("RGB")
    draw = ImageDraw.Draw(img, "RGBA")
    a = step.action or {}
    kind = a.get("action")
    red, blue = (230, 30, 40, 255), (20, 110, 240, 255)
    box = _target_box(step)
    if box:
        draw.rectangle(box, outline=blue, width=3)
    points = _frame_points(step)
    if kind == "drag" and len(points) == 2:
        (x0, y0), (x1, y1) = points
        draw.line([x0, y0, x1, y1], fill=red, width=4)
        draw.ellipse([x0 - 7, y0 - 7, x0 + 7, y0 + 7], outline=red, width=3)
        draw.polygon(_arrow_head(x0, y0, x1, y1), fill=red)
    elif kind == "scroll":
        x, y = points[0] if points else (img.width // 2, img.height // 2)
        dy = {"up": -60, "down": 60}.get(a.get("direction", ""), 0)
        dx = {"left": -60, "right": 60}.get(a.get("direction", ""), 0)
        draw.line([x, y, x + dx, y + dy], fill=red, width=5)
        draw.polygon(_arrow_head(x, y, x + dx, y + dy), fill=red)
    else:
        for x, y in points:
            draw.ellipse([x - 14, y - 14, x + 14, y + 14], outline=red, width=4)
            draw.line([x - 22, y, x + 22, y], fill=red, width=2)
            draw.line([x, y - 22, x, y + 22], fill=red, width=2)
    label = _label(a)
    if label:
        font = _font(18)
        x, y = points[0] if points else (12, 12)
        tx, ty = min(x + 20, img.width - 10), max(y - 38, 4)
        bbox = draw.textbbox((tx, ty), label, font=font)
        if bbox[2] > img.width - 4:
            shift = int(bbox[2] - (img.width - 4))
            tx -= int(shift)
            bbox = (bbox[0] - shift, bbox[1], bbox[2] - shift, bbox[3])
        draw.rectangle([bbox[0] - 6, bbox[1] - 4, bbox[2] + 6, bbox[3] + 4], fill=(20, 20, 20, 200))
        draw.text((tx, ty), label, fill=(255, 255, 255, 255), font=font)
    return img


def _label(a: dict[str, Any]) -> str:
    kind = a.get("action")
    if kind == "type":
        text = str(a.get("text", ""))
        return "type " + (text if len(text) <= 40 else text[:37] + "…")
    if kind == "key":
        return "press " + "+".join(a.get("keys", []))
    if kind == "click" and (a.get("clicks", 1) != 1 or a.get("button", "left") != "left"):
        return f"{a.get('button', 'left')} ×{a.get('clicks', 1)}"
    return ""


def _arrow_head(
    x0: float, y0: float, x1: float, y1: float, size: float = 16
) -> list[tuple[float, float]]:
    import math

    angle = math.atan2(y1 - y0, x1 - x0)
    left = (x1 - size * math.cos(angle - 0.45), y1 - size * math.sin(angle - 0.45))
    right = (x1 - size * math.cos(angle + 0.45), y1 - size * math.sin(angle + 0.45))
    return [(x1, y1), left, right]


def _describe(step: StepRecord) -> str:
    from .actions import describe, parse_action

    if not step.action:
        return step.status
    try:
        return describe(parse_action(step.action))
    except Exception:  # a hand-edited log: show the raw form
        return json.dumps(step.action, ensure_ascii=False)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def write_report(run_dir: str | Path, *, run: LoadedRun | None = None) -> Path:
    """Write ``report.html`` (and its images) for a run directory; returns the HTML's path."""
    run_dir = Path(run_dir)
    run = run or load_run(run_dir)
    assets = run_dir / "report"
    assets.mkdir(exist_ok=True)
    e = html.escape
    cards, strip = [], []
    for step in run.steps:
        n = step.index
        img_html = ""
        if step.frame and (run_dir / step.frame).exists():
            with Image.open(run_dir / step.frame) as frame:
                shot = annotate(frame, step)
            if shot.width > MAX_WIDTH:
                shot = shot.resize(
                    (MAX_WIDTH, round(shot.height * MAX_WIDTH / shot.width)),
                    Image.Resampling.LANCZOS,
                )
            big, thumb = f"report/step-{n:04d}.jpg", f"report/thumb-{n:04d}.jpg"
            shot.save(run_dir / big, quality=JPEG_QUALITY, optimize=True)
            small = shot.resize(
                (THUMB_WIDTH, round(shot.height * THUMB_WIDTH / shot.width)),
                Image.Resampling.LANCZOS,
            )
            small.save(run_dir / thumb, quality=70)
            alt = e(f"step {n}: {_describe(step)}", quote=True)
            img_html = (
                f'<a href="{big}"><img class="shot" src="{big}" alt="{alt}" loading="lazy"></a>'
            )
            strip.append(
                f'<a href="#step-{n}" class="thumb {e(step.status)}"><img src="{thumb}" alt="{alt}" '
                f'loading="lazy"><span>{n}</span></a>'
            )
        else:
            strip.append(f'<a href="#step-{n}" class="thumb {e(step.status)}"><span>{n}</span></a>')
        t = step.timings
        timing = " · ".join(
            f"{name} {_ms(v)}"
            for name, v in (
                ("capture", t.capture),
                ("decide", t.decide),
                ("check", t.check),
                ("execute", t.execute),
                ("settle", t.settle),
                ("log", t.log),
            )
            if v > 0
        )
        attempts = ""
        if len(step.attempts) > 1 or any(a.errors for a in step.attempts):
            rows = "".join(
                f"<li><code>{e(a.raw[:500])}</code>{'<br><span class=err>' + e('; '.join(a.errors)) + '</span>' if a.errors else ' <span class=ok>valid</span>'}</li>"
                for a in step.attempts
            )
            attempts = f"<details open><summary>{len(step.attempts)} attempts</summary><ol>{rows}</ol></details>"
        elif step.raw:
            attempts = f"<details><summary>raw answer</summary><pre>{e(step.raw)}</pre></details>"
        grounding = ""
        for a in step.attempts[-1:]:
            g = a.meta.get("grounding") if isinstance(a.meta, dict) else None
            if isinstance(g, dict):
                grounding = (
                    f"<div class=meta>target <b>{e(str(a.meta.get('target', '')))}</b> → {e(str(g.get('text', '')))} "
                    f"({e(str(g.get('grounded_by', '')))}, score {e(str(g.get('score', '')))}, "
                    f"waited {e(str(a.meta.get('waited', 0)))} s)</div>"
                )
        notes = "".join(f"<div class=warn>⚠ {e(w)}</div>" for w in step.warnings)
        notes += "".join(f"<div class=err>✖ {e(x)}</div>" for x in step.errors)
        where = ", ".join(f"({x}, {y})" for x, y in step.screen_points)
        colour = _STATUS_COLOURS.get(step.status, "#57606a")
        cards.append(
            f"""<section class="step" id="step-{n}">
<h2><span class="n">{n}</span> {e(_describe(step))} <span class="status" style="background:{colour}">{e(step.status)}</span></h2>
{f'<p class="thought">{e(step.thought)}</p>' if step.thought else ""}
{grounding}
<div class="meta">{e(timing)}{" · screen " + e(where) if where else ""}{" · " + e(step.detail) if step.detail else ""}</div>
{notes}{attempts}
{img_html}
</section>"""
        )
    meta = run.meta
    result = meta.result
    colour = _RESULT_COLOURS.get(result.status, "#cf222e")
    settings = "".join(
        f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>"
        for k, v in meta.settings.items()
        if v not in (None, False, "")
    )
    versions = " · ".join(f"{e(k)} {e(v)}" for k, v in meta.versions.items())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>screenagent run: {e(meta.task[:80])}</title>
<style>
body {{ font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }}
header {{ background: #fff; border-bottom: 1px solid #d0d7de; padding: 16px 24px; }}
header h1 {{ font-size: 15px; line-height: 1.35; margin: 0 0 8px; white-space: pre-wrap; font-weight: 600; max-height: 9.5em; overflow-y: auto; }}
.result {{ display: inline-block; color: #fff; border-radius: 6px; padding: 2px 10px; font-weight: 600; }}
.strip {{ position: sticky; top: 0; z-index: 2; display: flex; gap: 6px; overflow-x: auto; padding: 8px 24px; background: #fff; border-bottom: 1px solid #d0d7de; }}
.thumb {{ position: relative; flex: none; border: 2px solid #d0d7de; border-radius: 4px; text-decoration: none; min-width: 34px; min-height: 28px; }}
.thumb img {{ display: block; width: {THUMB_WIDTH // 2}px; }}
.thumb span {{ position: absolute; left: 2px; top: 2px; background: #1f2328cc; color: #fff; font-size: 11px; padding: 0 4px; border-radius: 3px; }}
.thumb.invalid, .thumb.failed, .thumb.error {{ border-color: #cf222e; }}
main {{ padding: 8px 24px 48px; max-width: 1340px; }}
.step {{ background: #fff; border: 1px solid #d0d7de; border-radius: 8px; margin: 16px 0; padding: 12px 16px; }}
.step h2 {{ font-size: 16px; margin: 0 0 6px; }}
.n {{ display: inline-block; min-width: 28px; text-align: center; background: #eaeef2; border-radius: 12px; margin-right: 6px; }}
.status {{ color: #fff; border-radius: 10px; padding: 1px 8px; font-size: 12px; vertical-align: middle; }}
.thought {{ margin: 4px 0; color: #24292f; }}
.meta {{ color: #57606a; font-size: 13px; margin: 2px 0; }}
.err {{ color: #cf222e; }} .warn {{ color: #9a6700; }} .ok {{ color: #1a7f37; }}
.shot {{ display: block; max-width: 100%; margin-top: 8px; border: 1px solid #d0d7de; border-radius: 4px; }}
pre, code {{ font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap; word-break: break-all; }}
table.settings th {{ text-align: left; padding-right: 12px; color: #57606a; font-weight: 500; }}
</style></head>
<body data-steps="{len(run.steps)}">
<header>
<h1>{e(meta.task)}</h1>
<p><span class="result" style="background:{colour}">{e(result.status)}</span>
 {result.steps} steps · policy {e(meta.policy)} · executor {e(meta.executor)} · started {e(meta.started_at)}{" · ended " + e(meta.ended_at) if meta.ended_at else ""}</p>
{f"<p><b>Answer:</b> {e(result.answer)}</p>" if result.answer else ""}
{f'<p class="err">{e(result.message)}</p>' if result.message and not result.success else ""}
<details><summary>settings and versions</summary><table class="settings">{settings}</table><p class="meta">{versions}</p></details>
</header>
<nav class="strip">{"".join(strip)}</nav>
<main>
{"".join(cards) if cards else "<p>No steps were recorded.</p>"}
</main>
<script>
// A self-check a browser can read back: how many images loaded.
window.addEventListener("load", () => {{
  const imgs = Array.from(document.images);
  imgs.forEach((i) => i.loading = "eager");
  Promise.all(imgs.map((i) => i.complete ? Promise.resolve() : new Promise((r) => {{ i.onload = i.onerror = r; }})))
    .then(() => {{
      document.body.dataset.imagesTotal = imgs.length;
      document.body.dataset.imagesLoaded = imgs.filter((i) => i.naturalWidth > 0).length;
    }});
}});
</script>
</body></html>
"""
    out = run_dir / "report.html"
    out.write_text(page, encoding="utf-8")
    return out
