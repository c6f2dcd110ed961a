"""Helpers the `screenagent` commands share: option types, the virtual display, launching
the program under test, region and size options, the OCR check."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
from collections.abc import Iterator
from typing import Any

from ..errors import ConfigError


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


@contextlib.contextmanager
def virtual_display(size: str | None, desktop: str = "full") -> Iterator[Any]:
    if not size:
        yield None
        return
    from ..display import VirtualDisplay, parse_size

    try:
        width, height, depth = parse_size(size)
    except ValueError as exc:
        raise ConfigError(f"--virtual-display: {exc}") from None
    with VirtualDisplay(width, height, depth, desktop=desktop) as vd:  # type: ignore[arg-type]
        yield vd


def add_desktop_option(p: Any) -> None:
    p.add_argument("--desktop", choices=("full", "bare"), default="full",
                   help="with --virtual-display: full (a window manager, a D-Bus session bus and "
                   "the accessibility bus; default) or bare (Xvfb alone)")  # fmt: skip


def region_option(text: str | None) -> Any:
    from ..geometry import Rect

    if not text:
        return None
    try:
        return Rect.parse(text)
    except ValueError as exc:
        raise ConfigError(f"--region: {exc}") from None


def require_ocr() -> None:
    from ..errors import MissingDependency

    if importlib.util.find_spec("rapidocr") is None:
        raise MissingDependency(
            "RapidOCR (the offline OCR engine the step-follower grounds targets with)",
            "Install it with `pip install 'screenagent[ocr]'`, or give --script FILE.",
        )


def size_option(text: str, option: str) -> tuple[int, int]:
    from ..display import parse_size

    try:
        w, h, _ = parse_size(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None
    return w, h
