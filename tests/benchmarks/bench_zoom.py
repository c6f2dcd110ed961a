"""What the zoom-in pass (``--zoom``) adds to one grounding, per family.

A zoom pass is one more model call on a window of 1/factor of the screen, sent at the model
input size of the whole screen, so the second call costs what the first did (the same number
of visual tokens), plus screenagent's own work: cutting the window, resizing it to the model
size, the family's image preparation, and parsing. Printed:

1. Per family, on a 1920x1080 and a 2560x1440 screenshot: the model input size (both looks),
   the first look's image preparation, and the zoom's own extra work (crop + resize +
   preparation), medians of ``--repeats`` runs.
2. Through the real transformers backend, with a tiny Qwen2.5-VL built here (no downloads,
   untrained, at most ``--tokens`` new tokens per answer; the tokens each look took are
   printed beside its time): the first look's wall time and the zoom pass's, side by side in one run, at the
   tiny model's pixel budget and at a 4x larger one. With a real checkpoint the second call
   costs what the first costs on that machine: the ratio, not the milliseconds, carries over.

Run: ``python tests/benchmarks/bench_zoom.py [--repeats 9] [--tokens 24]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from PIL import Image, ImageDraw  # noqa: E402

from screenagent.dialects import FAMILIES, get_dialect  # noqa: E402
from screenagent.geometry import ZoomWindow  # noqa: E402

FACTOR = 2.0


def screenshot(size: tuple[int, int]) -> Image.Image:
    """A busy synthetic screen: panels, text-like strokes and icons (resampling cost depends
    on size, not content, but a flat image would compress and resize unrealistically fast)."""
    rng = random.Random(7)
    img = Image.new("RGB", size, (236, 236, 236))
    d = ImageDraw.Draw(img)
    for _ in range(size[0] * size[1] // 4000):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.7:
            d.text((x, y), "".join(rng.choice("abcdefghij KLMNOP 0123") for _ in range(12)), fill=colour)
        else:
            d.rectangle([x, y, x + rng.randrange(8, 40), y + rng.randrange(8, 30)], outline=colour, width=2)
    return img


def median_ms(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def per_family(repeats: int) -> None:
    print("1. screenagent's own work per family (median ms; model input size of both looks)")
    sizes = [(1920, 1080), (2560, 1440)]
    shots = {s: screenshot(s) for s in sizes}
    print(f"   {'family':14s}" + "".join(f" | {w}x{h}: input      prep  zoom extra" for w, h in sizes))
    for fam in sorted(FAMILIES):
        prep = get_dialect(fam).resize
        row = f"   {fam:14s}"
        for size in sizes:
            img = shots[size]
            msize = prep.model_size(*size) if prep is not None else size
            window = ZoomWindow.around(size[0] // 3, size[1] // 3, frame_size=size, factor=FACTOR, size=msize)

            def first(img: Image.Image = img, prep=prep) -> None:  # type: ignore[no-untyped-def]
                if prep is not None:
                    prep.prepare(img)

            def zoom(img: Image.Image = img, prep=prep, window: ZoomWindow = window) -> None:  # type: ignore[no-untyped-def]
                crop = window.crop(img)
                if prep is not None:
                    prep.prepare(crop)

            row += (f" | {msize[0]:>5}x{msize[1]:<5} {median_ms(first, repeats):8.1f} "
                    f"{median_ms(zoom, repeats):10.1f}")  # fmt: skip
        print(row)


def through_transformers(repeats: int, tokens: int) -> None:
    from tiny_vlm import build_tiny_qwen25vl

    from screenagent.backends import TransformersBackend
    from screenagent.dialects import Resize

    dialect = get_dialect("ui-tars-1.5")
    print(f"\n2. the real transformers backend, tiny Qwen2.5-VL on CPU, {tokens} new tokens per answer "
          f"(median of {repeats}; zoom = crop + the second call)")  # fmt: skip
    with TemporaryDirectory() as tmp:
        corpus = [dialect.grounding_prompt("the Save button", (0, 0)).user, "click(start_box='(1,2)')"]
        folder = build_tiny_qwen25vl(Path(tmp) / "m", corpus)
        for budget in (28 * 28 * 64, 28 * 28 * 256):
            prep = Resize(min_pixels=3136, max_pixels=budget)
            backend = TransformersBackend(str(folder), device="cpu", min_pixels=3136, max_pixels=budget,
                                          max_new_tokens=tokens)  # fmt: skip
            prompt = dialect.grounding_prompt("the Save button", (0, 0)).user
            for size in ((1280, 800), (1920, 1080)):
                img = screenshot(size)
                msize = prep.model_size(*size)
                window = ZoomWindow.around(size[0] // 2, size[1] // 2, frame_size=size, factor=FACTOR, size=msize)
                backend.complete(system=None, prompt=prompt, image=img)  # warm-up (loads the model)
                first_ms, zoom_ms, toks = [], [], set()
                for _ in range(repeats):  # interleaved, so both see the same machine load
                    t = time.perf_counter()
                    a = backend.complete(system=None, prompt=prompt, image=img)
                    first_ms.append((time.perf_counter() - t) * 1000)
                    t = time.perf_counter()
                    b = backend.complete(system=None, prompt=prompt, image=window.crop(img))
                    zoom_ms.append((time.perf_counter() - t) * 1000)
                    toks |= {(a.prompt_tokens, a.completion_tokens), (b.prompt_tokens, b.completion_tokens)}
                f, z = statistics.median(first_ms), statistics.median(zoom_ms)
                print(f"   budget {budget:>6} px, {size[0]}x{size[1]} -> {msize[0]}x{msize[1]}: "
                      f"one look {f:6.1f} ms, zoom pass {z:6.1f} ms, with zoom {f + z:6.1f} ms "
                      f"({(f + z) / f:.2f}x); (prompt, new) tokens seen {sorted(toks)}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--tokens", type=int, default=24)
    args = ap.parse_args()
    per_family(args.repeats)
    through_transformers(args.repeats, args.tokens)


if __name__ == "__main__":
    main()
