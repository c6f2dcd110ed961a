"""OCR engines behind one small interface, and a cache that never reads the same screen twice.

RapidOCR (PP-OCR models shipped inside its wheel: nothing is downloaded) is the default. It reads
a 1280x800 frame in about 0.5-0.8 s on 2 cores, and that is what bounds a first lookup on a new
frame; `CachedOcr` makes every later lookup on an unchanged screen a dictionary hit. Tesseract
is here for comparison (the classic SikuliX approach); it needs the image upscaled 2x to read
button labels reliably.

Text detection runs over the whole image, not over the part that changed. The
detector (PP-OCR's DB net on a MobileNetV3) has squeeze-and-excitation blocks that pool over
the whole input, so every box depends on the whole image: measured on frames of the demo app,
mousepad and Tk, detecting a crop around a change put many boxes more than a pixel away from
the whole frame's (on a Save As frame, 17 of 27 lines with a 64 px margin, 13 of 28 with
256 px), and full-width bands of 224-512 rows moved 26-45% of the
lines' boxes by more than a pixel (a Tk "City" label grew from 25 to 37 px tall and swallowed
the field below it). A reader made of such pieces would not read a frame as a fresh pass
does; what is reused across frames is recognition (`REC_CACHE_SIZE`), which is exact.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image

from .errors import MissingDependency
from .geometry import Box


@dataclass(frozen=True, kw_only=True)
class OcrWord:
    text: str
    box: Box
    score: float


@dataclass(frozen=True, kw_only=True)
class OcrLine:
    """One line of text as the engine grouped it, with its words (in reading order)."""

    text: str
    box: Box
    score: float
    words: tuple[OcrWord, ...]


class OcrEngine(Protocol):
    """Reads text with boxes (frame pixels) from an image.

    ``scale`` > 1 reads an enlarged copy (slower, finds smaller text) and maps the boxes back
    to the image's pixels.
    """

    name: str

    def read(self, image: Image.Image, *, scale: float = 1.0) -> list[OcrLine]: ...


def _scaled_box(box: Box, scale: float) -> Box:
    if scale == 1.0:
        return box
    return Box(
        x1=int(box.x1 / scale),
        y1=int(box.y1 / scale),
        x2=round(box.x2 / scale),
        y2=round(box.y2 / scale),
    )


def _enlarge(image: Image.Image, scale: float) -> Image.Image:
    if scale == 1.0:
        return image
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.Resampling.LANCZOS)


LONG_LINE_RATIO = 25
"""Lines wider than this many heights, read with a score under LONG_LINE_MIN_SCORE, are read
again in pieces (`RapidOcrEngine._reread_long`)."""
LONG_LINE_MIN_SCORE = 0.9


SCREEN_PARAMS = {"Global.use_cls": False, "Det.limit_side_len": 32, "Rec.rec_batch_num": 1,
                 "Global.use_vertical_padding": False}
"""RapidOCR's defaults are tuned for photos; on screens (measured on 15 real frames: the demo
app, mousepad with its Save As dialog and menus, galculator):

- the text-angle classifier is off: screen text is never upside down, and the classifier took
  light-on-dark lines for turned ones and flipped them ("Untitled 1 - Mousepad" in a dark title
  bar came back as "Und - I ttad", "Ctrl+S" in a menu as "Ct+tS"); without it 7 of the 15
  frames read better and none worse, and a frame costs 5% less;
- detection runs at the image's own scale: by default an image whose short side is under 736
  px is enlarged to 736 first, so a 1280x100 band of a frame cost 964 ms instead of 286 ms
  (a 1280x800 frame is read at its own scale either way);
- no black bands are added above and below a wide image (a 1280x100 band of a frame became
  1280x320 before detection); a frame is never that wide;
- lines are recognised one at a time: in a batch each crop is padded to the widest one's
  shape, so a line's text depended on the lines read with it (" Subscribe to news" with a
  space, or not); one at a time costs the same on 2 cores, and the same crop always reads the
  same, so recognition can be cached by the crop's pixels (`RapidOcrEngine.rec_hits`)."""
REC_CACHE_SIZE = 4096
"""Line crops whose recognition is remembered."""


_OPTIONS_LOCK = threading.Lock()


@contextmanager
def _desktop_session_options() -> Iterator[None]:
    """While RapidOCR builds its ONNX Runtime sessions, give them options for a desktop
    process: one intra-op thread per core this process may run on (ONNX Runtime's default
    counts the machine's cores, which a container or CPU affinity may not grant), and no
    busy-spinning of those threads after each run. Measured on 2 cores, a 1280x224 band detected
    every 100 ms: 41 ms wall and 119 ms CPU per cycle with spinning, 45 ms and 77 ms without.
    RapidOCR's own options are kept; each model is loaded once.
    """
    import os

    from rapidocr.inference_engine.onnxruntime.main import OrtInferSession

    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    with _OPTIONS_LOCK:
        base = OrtInferSession._init_sess_opts

        def options(cfg: Any) -> Any:
            opts = base(cfg)
            opts.intra_op_num_threads = threads
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return opts

        OrtInferSession._init_sess_opts = staticmethod(options)  # type: ignore[method-assign]
        try:
            yield
        finally:
            OrtInferSession._init_sess_opts = staticmethod(base)  # type: ignore[method-assign]


class RapidOcrEngine:
    """RapidOCR with its bundled ONNX models; lines with word boxes.

    Args:
        min_score: Drop lines the recogniser is less sure of than this.
        rec_cache: Remember each line crop's recognition by its pixels (a new frame then
            costs its text detection and the lines not seen before).
        params: RapidOCR settings (default `SCREEN_PARAMS`; ``{}``: RapidOCR's own defaults).
    """

    name = "rapidocr"

    def __init__(self, *, min_score: float = 0.5, rec_cache: bool = True,
                 params: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.min_score = min_score
        self.rec_cache = rec_cache
        self.params = SCREEN_PARAMS if params is None else params
        self._engine: Any = None
        self._lock = threading.Lock()  # onnxruntime sessions are shared; keep calls serial
        self._rec: OrderedDict[str, tuple[Any, Any, Any]] = OrderedDict()
        self.rec_hits = 0
        self.rec_misses = 0
        """Line crops recognised from the cache / by the model (for benchmarks)."""

    def _cached_recognizer(self, recognize: Any) -> Any:
        """RapidOCR's recognition step, remembering each line crop's result by its pixels (a
        line that moved, or came back, is not recognised again)."""
        import copy

        def cached(imgs: list[Any]) -> Any:
            from rapidocr.ch_ppocr_rec.typings import TextRecOutput

            keys = [hashlib.blake2b(im.tobytes() + str(im.shape).encode(), digest_size=16).hexdigest()
                    for im in imgs]  # fmt: skip
            missing = [i for i, k in enumerate(keys) if k not in self._rec]
            self.rec_hits += len(imgs) - len(missing)
            self.rec_misses += len(missing)
            if missing:
                out = recognize([imgs[i] for i in missing])
                for j, i in enumerate(missing):
                    self._rec[keys[i]] = (out.txts[j], out.scores[j], out.word_results[j])
            found = [copy.deepcopy(self._rec[k]) for k in keys]
            for k in keys:
                self._rec.move_to_end(k)
            while len(self._rec) > REC_CACHE_SIZE:
                self._rec.popitem(last=False)
            return TextRecOutput(imgs=list(imgs), txts=tuple(f[0] for f in found),
                                 scores=[f[1] for f in found], word_results=tuple(f[2] for f in found),
                                 elapse=0.0)  # fmt: skip

        return cached

    def _load(self) -> Any:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise MissingDependency(
                "RapidOCR (the offline OCR engine)",
                "Install it with `pip install 'screenagent[ocr]'`.",
            ) from exc
        # Lines under min_score are kept here and dropped after `_reread_long` had its go.
        from rapidocr.utils.download_file import DownloadFileException

        try:
            engine = RapidOCR(params={"Global.log_level": "error", "Global.text_score": 0.3, **self.params})
            with _desktop_session_options():
                engine._load_det_model()
                engine._load_rec_model()
        except (DownloadFileException, FileNotFoundError, FileExistsError) as exc:
            # its models are not where the wheel put them
            raise MissingDependency(
                "The [ocr] extra, complete with RapidOCR's model files,",
                "They ship inside the rapidocr wheel, so the install is broken; reinstall it with "
                "`pip install --force-reinstall 'screenagent[ocr]'`. "
                f"RapidOCR said: {str(exc).splitlines()[0][:200]}",
            ) from exc
        return engine

    def read(self, image: Image.Image, *, scale: float = 1.0) -> list[OcrLine]:
        import numpy as np

        with self._lock:
            if self._engine is None:
                self._engine = self._load()
                if self.rec_cache:
                    self._engine.recognize_txt = self._cached_recognizer(self._engine.recognize_txt)
            pixels = np.asarray(_enlarge(image.convert("RGB"), scale))
            result = self._engine(pixels, return_word_box=True)
        if result.txts is None or result.boxes is None:
            return []
        words_per_line = result.word_results or ()
        lines = []
        rgb: Image.Image | None = None  # for `_reread_long`, converted once
        for i, (quad, text, score) in enumerate(
            zip(result.boxes, result.txts, result.scores, strict=False)
        ):
            line_box = _scaled_box(Box.from_points(quad), scale)
            words: list[OcrWord] = []
            if i < len(words_per_line):
                for item in words_per_line[i]:
                    w_text, w_score, w_quad = item[0], item[1], item[2]
                    if w_quad is None or not str(w_text).strip():
                        continue
                    words.append(
                        OcrWord(
                            text=str(w_text),
                            box=_scaled_box(Box.from_points(w_quad), scale),
                            score=float(w_score),
                        )
                    )
            line = OcrLine(text=str(text), box=line_box, score=float(score), words=tuple(words))
            if (
                line.score < LONG_LINE_MIN_SCORE
                and line.box.width > LONG_LINE_RATIO * line.box.height
            ):
                rgb = rgb or image.convert("RGB")
                line = self._reread_long(rgb, line)
            if line.score >= self.min_score:
                lines.append(line)
        return lines

    def _reread_long(self, image: Image.Image, line: OcrLine) -> OcrLine:
        """Read a very long line again in pieces.

        The recogniser squeezes a line much wider than ~25 times its height and returns
        garbage for it (a terminal's 95-column ``File "..."`` line read as "F t t '---"). The
        line is cut at blank columns near every ~16 line heights (the widest blank run there,
        so usually a space) and the pieces are read one by one; a cut through a run wider than
        a third of the line's height is a space.
        """
        import numpy as np

        b = line.box
        crop = image.crop((b.x1, b.y1, b.x2, b.y2))
        # blank columns are judged a little above and below the box: "_" and "," hang below it
        tall = image.crop((b.x1, max(0, b.y1 - 2), b.x2, min(image.height, b.y2 + 4)))
        gray = np.asarray(tall.convert("L"), dtype=np.int16)
        background = int(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))
        blank: Any = (np.abs(gray - background) < 40).all(axis=0)
        step = 16 * b.height
        cuts: list[tuple[int, int]] = []  # (start, end) of the blank run cut through
        x = 0
        while b.width - x > step * 1.25:
            lo, hi = x + int(step * 0.75), min(b.width - 1, x + int(step * 1.1))
            best: tuple[int, int] | None = None
            i = lo
            while i < hi:
                if blank[i]:
                    j = i
                    while j < b.width and blank[j]:
                        j += 1
                    if best is None or j - i > best[1] - best[0]:
                        best = (i, j)
                    i = j
                else:
                    i += 1
            if best is None:
                return line  # no place to cut: keep the first reading
            cuts.append(best)
            x = best[1]
        edges = [0, *[c for cut in cuts for c in cut], b.width]
        text = ""
        words: list[OcrWord] = []
        scores: list[float] = []
        with self._lock:
            for k in range(0, len(edges), 2):
                x1, x2 = edges[k], edges[k + 1]
                pad = Image.new("RGB", (x2 - x1 + 2 * b.height, b.height * 2), (background,) * 3)
                pad.paste(crop.crop((x1, 0, x2, b.height)), (b.height, b.height // 2))
                result = self._engine(np.asarray(pad))
                parts = sorted(
                    ((Box.from_points(q), str(t))
                     for q, t in zip(result.boxes if result.txts else (), result.txts or (), strict=False)),
                    key=lambda p: p[0].x1,
                )  # fmt: skip
                piece = ""
                for n, (pbox, ptext) in enumerate(parts):
                    gap = pbox.x1 - parts[n - 1][0].x2 if n else 0
                    piece += (" " if gap > 0.15 * b.height else "") + ptext
                if not piece:
                    return line
                if k and text:
                    run = cuts[k // 2 - 1]
                    text += " " if run[1] - run[0] > b.height / 3 else ""
                text += piece
                scores.extend(float(v) for v in (result.scores or ()))
                words.append(
                    OcrWord(
                        text=piece,
                        box=Box(x1=b.x1 + x1, y1=b.y1, x2=b.x1 + x2, y2=b.y2),
                        score=min(scores),
                    )
                )
        score = min(scores) if scores else 0.0
        if score <= line.score:
            return line
        return OcrLine(text=text, box=b, score=score, words=tuple(words))


class TesseractEngine:
    """Tesseract through its command-line program (Debian's ``tesseract-ocr``).

    Args:
        upscale: Enlarge the image before reading; Tesseract misses or garbles small button
            labels at 1x. Boxes are mapped back to the original pixels.
    """

    name = "tesseract"

    def __init__(self, *, upscale: int = 2, min_confidence: float = 30.0) -> None:
        self.upscale = upscale
        self.min_confidence = min_confidence

    def read(self, image: Image.Image, *, scale: float = 1.0) -> list[OcrLine]:
        exe = shutil.which("tesseract")
        if exe is None:
            raise MissingDependency(
                "tesseract", "Install it with `sudo apt-get install tesseract-ocr`."
            )
        k = max(1, round(self.upscale * scale))
        img = _enlarge(image.convert("L"), k)
        import io

        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1)
        proc = subprocess.run(
            [exe, "stdin", "stdout", "--psm", "11", "tsv"],
            input=buf.getvalue(),
            capture_output=True,
            check=True,
            timeout=60,
        )
        rows = proc.stdout.decode("utf-8", "replace").splitlines()[1:]
        lines: dict[tuple[int, int, int], list[OcrWord]] = {}
        for row in rows:
            cols = row.split("\t")
            if len(cols) < 12 or not cols[11].strip():
                continue
            conf = float(cols[10])
            if conf < self.min_confidence:
                continue
            left, top, width, height = (int(c) for c in cols[6:10])
            box = Box(
                x1=left // k,
                y1=top // k,
                x2=(left + width + k - 1) // k,
                y2=(top + height + k - 1) // k,
            )
            key = (int(cols[2]), int(cols[3]), int(cols[4]))  # block, paragraph, line
            lines.setdefault(key, []).append(OcrWord(text=cols[11], box=box, score=conf / 100))
        out = []
        for words in lines.values():
            box = words[0].box
            for w in words[1:]:
                box = box.union(w.box)
            out.append(
                OcrLine(
                    text=" ".join(w.text for w in words),
                    box=box,
                    score=sum(w.score for w in words) / len(words),
                    words=tuple(words),
                )
            )
        return out


def image_digest(image: Image.Image) -> str:
    """A digest of the pixels (about 1-2 ms for a 1280x800 frame)."""
    h = hashlib.blake2b(image.tobytes(), digest_size=16)
    h.update(f"{image.size}{image.mode}".encode())
    return h.hexdigest()


class CachedOcr:
    """An engine wrapper that reads each distinct screen once.

    Results are kept per pixel digest (a small LRU), so the same frame, or a later frame of a
    screen that did not change, costs a hash and a lookup instead of an OCR pass.

    Args:
        engine: The engine to wrap.
        size: How many distinct screens to remember.
    """

    def __init__(self, engine: OcrEngine, *, size: int = 8) -> None:
        self.engine = engine
        self.name = engine.name
        self.size = size
        self._cache: OrderedDict[str, list[OcrLine]] = OrderedDict()
        self.reads = 0
        """How many times the engine actually ran (for tests and benchmarks)."""

    def peek(self, image: Image.Image, *, scale: float = 1.0) -> list[OcrLine] | None:
        """The lines already read for this screen, or None (never runs the engine)."""
        return self._cache.get(f"{image_digest(image)}@{scale:g}")

    def read(self, image: Image.Image, *, scale: float = 1.0) -> list[OcrLine]:
        key = f"{image_digest(image)}@{scale:g}"
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        lines = self.engine.read(image, scale=scale)
        self.reads += 1
        self._cache[key] = lines
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return lines
