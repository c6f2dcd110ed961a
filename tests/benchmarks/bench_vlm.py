"""What screenagent adds around a model, per step, and what each family's pixel budget costs.

1. Overhead around the model. On a private Xvfb at 1280x800 and at 1920x1080, each step runs
   what a VLM step runs: capture (mss), the VLM policy's decide (image preparation, prompt
   building, the processor's resize and patching, generate, decoding, parsing, validation).
   The model is a tiny Qwen2.5-VL built here (no downloads), so generate is short and the
   rest shows; overhead = capture + decide - generate. Two pixel budgets: the tiny model's
   own (50176 px) and UI-TARS-1.5's default (12845056 px). The HTTP path's extra work, the
   screenshot's base64 encoding (PNG and JPEG), is timed on the same frames.
2. Visual tokens per family on a 1920x1080 screenshot, from each family's own resize and its
   backbone's patching (Qwen2-VL/2.5-VL: 28x28 px per token; Qwen3-VL: 32x32). Families whose
   backbone patches differently are listed with what is known.

Run: ``python tests/benchmarks/bench_vlm.py [--steps 20]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from screenagent.backends import TransformersBackend  # noqa: E402
from screenagent.backends.openai_backend import image_data_url  # noqa: E402
from screenagent.dialects import FAMILIES, Resize, get_dialect  # noqa: E402
from screenagent.display import VirtualDisplay  # noqa: E402
from screenagent.errors import InvalidOutput  # noqa: E402
from screenagent.geometry import smart_resize  # noqa: E402
from screenagent.policies.base import StepContext  # noqa: E402
from screenagent.policies.vlm import VLMPolicy  # noqa: E402
from screenagent.screen import MssScreen  # noqa: E402

QWEN2_DEFAULT = Resize()  # the Qwen2-VL/2.5-VL processor default budget


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def fmt(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:7.1f} ms  p95 {pct(values, 0.95) * 1000:7.1f} ms"
    )


def overhead(folder: Path, size: tuple[int, int], steps: int, budget: Resize) -> None:
    dialect = get_dialect("ui-tars-1.5")
    backend = TransformersBackend(
        str(folder),
        device="cpu",
        min_pixels=budget.min_pixels,
        max_pixels=budget.max_pixels,
        max_new_tokens=24,
    )
    policy = VLMPolicy(backend, dialect, budget)
    w, h = size
    caps, totals, gens, encodes_png, encodes_jpeg = [], [], [], [], []
    with VirtualDisplay(w, h) as vd, MssScreen(display=vd.display) as screen:
        for i in range(steps + 2):
            t0 = time.perf_counter()
            frame = screen.capture()
            t1 = time.perf_counter()
            generate = 0.0
            try:
                proposal = policy.decide(StepContext(task="click Submit", frame=frame, step=1))
                generate = proposal.meta["generate_seconds"]
            except InvalidOutput:  # an untrained model's answer: parsed and rejected, still timed
                generate = policy.last_meta["generate_seconds"]
            t2 = time.perf_counter()
            e0 = time.perf_counter()
            image_data_url(frame.image, "png")
            e1 = time.perf_counter()
            image_data_url(frame.image, "jpeg")
            e2 = time.perf_counter()
            if i < 2:
                continue  # warm-up: model load, first-call allocations
            caps.append(t1 - t0)
            totals.append(t2 - t1)
            gens.append(generate)
            encodes_png.append(e1 - e0)
            encodes_jpeg.append(e2 - e1)
    model_w, model_h = budget.model_size(w, h)
    over = [c + t - g for c, t, g in zip(caps, totals, gens, strict=True)]
    print(
        f"\n{w}x{h}, model input {model_w}x{model_h} ({model_w * model_h // 784} visual tokens), {steps} steps"
    )
    print(f"  capture              {fmt(caps)}")
    print(f"  generate (the model) {fmt(gens)}")
    print(f"  screenagent overhead {fmt(over)}   (capture + decide - generate)")
    print(f"  HTTP encode PNG      {fmt(encodes_png)}")
    print(f"  HTTP encode JPEG     {fmt(encodes_jpeg)}")


def visual_tokens() -> None:
    print("\nVisual tokens for a 1920x1080 screenshot at each family's default budget")
    others = {
        "seeclick": "Qwen-VL: a fixed 448x448 input, 256 tokens",
        "cogagent": "GLM-4V: a fixed 1120x1120 input",
        "phi-ground": "Phi-3.5-vision HD crops of the 1008x672 canvas",
        "anthropic": "1366x768 sent; Anthropic documents about w*h/750 tokens: ~1399",
        "openai": "sent as is; tokens depend on the API's own tiling",
    }
    for family in sorted(FAMILIES):
        d = FAMILIES[family]
        prep = d.resize
        if family in others:
            print(f"  {family:12s} {others[family]}")
            continue
        note = ""
        if not isinstance(prep, Resize):  # relative-coordinate Qwen2-VL families: processor default
            prep, note = (
                QWEN2_DEFAULT,
                " (coordinates relative; the Qwen2-VL processor default budget)",
            )
        rh, rw = smart_resize(
            1080, 1920, factor=prep.factor, min_pixels=prep.min_pixels, max_pixels=prep.max_pixels
        )
        tokens = (rw // prep.factor) * (rh // prep.factor)
        print(f"  {family:12s} {rw}x{rh} -> {tokens:5d} tokens{note}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    from tiny_vlm import build_tiny_qwen25vl

    with TemporaryDirectory() as tmp:
        folder = build_tiny_qwen25vl(
            Path(tmp) / "model", ["Thought: x\nAction: click(start_box='(1,2)')"]
        )
        for size in ((1280, 800), (1920, 1080)):
            overhead(
                folder,
                size,
                args.steps,
                Resize(factor=28, min_pixels=3136, max_pixels=28 * 28 * 64),
            )
            overhead(folder, size, max(5, args.steps // 4), get_dialect("ui-tars-1.5").resize)  # type: ignore[arg-type]
    visual_tokens()


if __name__ == "__main__":
    main()
