"""Model options of the `screenagent` commands: ``--model hf:PATH`` / ``--model openai:NAME
--base-url URL``, ``--family``, the pixel budget, and the composed ``--planner/--grounder``.

The API key and default base URL are read from the environment here, at the CLI edge:
``SCREENAGENT_API_KEY`` (else ``OPENAI_API_KEY``) and ``OPENAI_BASE_URL``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from .cli_support import positive_float, positive_int, require_ocr
from .errors import ConfigError

MODEL_SPEC_HELP = (
    "hf:<folder or hub id> (local transformers) or openai:<model name> (with --base-url)"
)


def add_model_options(p: argparse.ArgumentParser, *, composed: bool) -> None:
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


def build_backend(spec: str, args: argparse.Namespace, prep: Any = None) -> Any:
    """A backend for ``hf:...`` or ``openai:...``; ``prep`` gives a local processor its family's
    pixel budget."""
    from .dialects import Resize

    kind, _, name = spec.partition(":")
    if kind == "hf" and name:
        from .backends import TransformersBackend

        budget = prep if isinstance(prep, Resize) else None
        return TransformersBackend(
            name, device=args.device, dtype=args.dtype,
            min_pixels=budget.min_pixels if budget else None, max_pixels=budget.max_pixels if budget else None,
        )  # fmt: skip
    if kind == "openai" and name:
        from .backends import OpenAIBackend

        base_url = args.base_url or os.environ.get("OPENAI_BASE_URL") or None
        api_key = os.environ.get("SCREENAGENT_API_KEY") or os.environ.get("OPENAI_API_KEY")
        if base_url is None and api_key is None:
            raise ConfigError(
                f"{spec}: give --base-url http://HOST:PORT/v1 for a local server, or set "
                "OPENAI_API_KEY for OpenAI's own API."
            )
        return OpenAIBackend(name, base_url=base_url, api_key=api_key, timeout=args.request_timeout,
                             image_format=args.image_format)  # fmt: skip
    raise ConfigError(f"Model {spec!r}: give {MODEL_SPEC_HELP}.")


def resolve_model(
    spec: str, args: argparse.Namespace, *, family_required: bool = True
) -> tuple[Any, Any, Any]:
    """(backend, dialect, image prep) for a model that speaks a family's dialect. With
    ``family_required=False`` a model of no known family is (backend, None, None): its image
    is sent as it is."""
    from .dialects import get_dialect
    from .policies.vlm import detect_family

    name = spec.partition(":")[2]
    family = args.family or detect_family(name)
    if family is None and not family_required:
        return build_backend(spec, args), None, None
    if family is None:
        raise ConfigError(
            f"Cannot tell the family of {name!r} from its name: give --family (e.g. ui-tars-1.5, "
            "qwen2.5-vl; `screenagent parse --help` lists them)."
        )
    dialect = get_dialect(family)
    prep = dialect.image_prep(args.min_pixels, args.max_pixels)
    return build_backend(spec, args, prep), dialect, prep


def model_grounder(spec: str, args: argparse.Namespace) -> Any:
    """``ocr`` -> the embedded OCR grounder; a model spec -> a ModelGrounder."""
    if spec == "ocr":
        from .grounding import Grounder

        require_ocr()
        return Grounder()
    from .policies.vlm import ModelGrounder

    backend, dialect, prep = resolve_model(spec, args)
    return ModelGrounder(backend, dialect, prep)


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
        from .policies.vlm import VLMPolicy

        backend, dialect, prep = resolve_model(args.model, args)
        return VLMPolicy(backend, dialect, prep, context=context)
    if planner:
        from .policies.planner import PlannerPolicy

        grounder = model_grounder(args.grounder or "ocr", args)
        return PlannerPolicy(build_backend(planner, args), grounder, context=context)
    return None
