"""Model options of the `screenagent` commands: ``--model hf:PATH`` / ``--model openai:NAME
--base-url URL``, ``--family``, the pixel budget, and the composed ``--planner/--grounder``.

The API key and default base URL are read from the environment here, at the CLI edge:
``SCREENAGENT_API_KEY`` (else ``OPENAI_API_KEY``) and ``OPENAI_BASE_URL``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..errors import ConfigError
from ..models import MODEL_SPEC
from .support import positive_float, positive_int, require_ocr

MODEL_SPEC_HELP = MODEL_SPEC.replace("base_url", "--base-url").replace("'", "")


def add_model_options(p: argparse.ArgumentParser, *, composed: bool, pointing: bool = True) -> None:
    """The model options; ``pointing=False``: a command whose model never points (no --zoom)."""
    g = p.add_argument_group("model")
    g.add_argument(
        "--model", metavar="SPEC", help=f"let a vision-language model decide: {MODEL_SPEC_HELP}"
    )
    if composed:
        g.add_argument("--planner", metavar="SPEC",
                       help="composed mode: this model plans each step and names its target in words")  # fmt: skip
        g.add_argument("--grounder", metavar="SPEC|ocr", default=None,
                       help="composed mode: what turns the planner's words into a point (a grounding model, or ocr: the default)")  # fmt: skip
    g.add_argument(
        "--family",
        metavar="ID",
        help="the (grounding) model's family (default: detected from its name)",
    )
    g.add_argument("--base-url", metavar="URL",
                   help="the OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (default: $OPENAI_BASE_URL)")  # fmt: skip
    g.add_argument(
        "--device", help="transformers: cuda, cuda:1, mps, cpu or auto (default: the best one)"
    )
    g.add_argument("--dtype", help="transformers: bf16, fp16 or fp32 (default: by device)")
    g.add_argument(
        "--min-pixels",
        type=positive_int,
        metavar="N",
        help="the image pixel budget's lower bound (Qwen-resize families)",
    )
    g.add_argument(
        "--max-pixels",
        type=positive_int,
        metavar="N",
        help="the image pixel budget's upper bound (Qwen-resize families)",
    )
    g.add_argument(
        "--image-format",
        choices=("png", "jpeg"),
        default="png",
        help="how screenshots are sent over HTTP",
    )
    g.add_argument("--request-timeout", type=positive_float, default=120.0, metavar="S",
                   help="seconds for one model request over HTTP (default 120)")  # fmt: skip
    if pointing:
        g.add_argument("--zoom", nargs="?", const=2.0, type=zoom_factor, metavar="FACTOR",
                       help="refine each point with a second look at a window of 1/FACTOR of the "
                            "screen around the first answer (FACTOR 2 when not given; 'off' turns a "
                            "family's default off)")  # fmt: skip


def zoom_factor(text: str) -> float:
    """``--zoom`` values: a factor above 1, or ``off`` (0)."""
    if text.strip().lower() in ("off", "0", "no", "none"):
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 1:
        raise argparse.ArgumentTypeError(f"expected a zoom factor above 1 (e.g. 2) or 'off', got {text!r}")
    return value


def load_for_cli(
    spec: str, args: argparse.Namespace, *, family_required: bool = True, zoom: bool = True
) -> Any:
    """`load_model` with the command's options; the key and default URL come from the
    environment here, at the CLI edge. ``zoom=False``: a model that only plans (never
    points) takes no ``--zoom``."""
    from ..models import load_model

    return load_model(
        spec, family=getattr(args, "family", None), family_required=family_required,
        base_url=getattr(args, "base_url", None) or os.environ.get("OPENAI_BASE_URL") or None,
        api_key=os.environ.get("SCREENAGENT_API_KEY") or os.environ.get("OPENAI_API_KEY"),
        min_pixels=getattr(args, "min_pixels", None), max_pixels=getattr(args, "max_pixels", None),
        device=getattr(args, "device", None), dtype=getattr(args, "dtype", None),
        image_format=getattr(args, "image_format", "png"),
        request_timeout=getattr(args, "request_timeout", 120.0),
        zoom=getattr(args, "zoom", None) if zoom else None,
    )  # fmt: skip


def resolve_model(
    spec: str, args: argparse.Namespace, *, family_required: bool = True
) -> tuple[Any, Any, Any]:
    """(backend, dialect, image prep) of `load_model`; with ``family_required=False`` a model
    of no known family is (backend, None, None): its image is sent as it is."""
    model = load_for_cli(spec, args, family_required=family_required)
    return model.backend, model.dialect, model.prep


def model_grounder(spec: str, args: argparse.Namespace) -> Any:
    """``ocr`` -> the embedded OCR grounder; a model spec -> a ModelGrounder."""
    if spec == "ocr":
        from ..grounding import Grounder

        require_ocr()
        return Grounder()
    return load_for_cli(spec, args).grounder()


def model_policy(args: argparse.Namespace, context: str = "") -> Any:
    """The policy the model options ask for, or None when they ask for none."""
    planner = getattr(args, "planner", None)
    if args.model and planner:
        raise ConfigError(
            "Give --model (one model does everything) or --planner/--grounder, not both."
        )
    if getattr(args, "grounder", None) and not planner:
        raise ConfigError("--grounder needs --planner (the model that decides what to do).")
    if args.model:
        return load_for_cli(args.model, args).policy(context=context)
    if planner:
        from ..policies.planner import PlannerPolicy

        grounder = model_grounder(args.grounder or "ocr", args)
        backend = load_for_cli(planner, args, family_required=False, zoom=False).backend
        return PlannerPolicy(backend, grounder, context=context)
    return None
