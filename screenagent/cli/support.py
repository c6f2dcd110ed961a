"""Helpers the `screenagent` commands share: option types, the virtual display, launching
the program under test, region and size options, the OCR check."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
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
def virtual_display(size: str | None) -> Iterator[Any]:
    if not size:
        yield None
        return
    from ..display import VirtualDisplay, parse_size

    try:
        width, height, depth = parse_size(size)
    except ValueError as exc:
        raise ConfigError(f"--virtual-display: {exc}") from None
    with VirtualDisplay(width, height, depth) as vd:
        yield vd


@contextlib.contextmanager
def launched(command: str | None, *, screen: Any, timeout: float = 20.0) -> Iterator[Any]:
    """Start ``command`` (no shell), wait until its window has drawn, end it afterwards."""
    if not command:
        yield None
        return
    from ..display import end_process
    from ..screen import SettleConfig, changed_fraction, wait_until_settled

    argv = shlex.split(command)
    if not argv or (shutil.which(argv[0]) is None and not Path(argv[0]).exists()):
        raise ConfigError(f"--launch: cannot find the program {argv[0] if argv else command!r}.")
    before = screen.capture()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while changed_fraction(before.image, screen.capture().image) <= 0.001:
            if proc.poll() is not None:
                raise ConfigError(
                    f"--launch: {command!r} exited with code {proc.returncode} before showing a window."
                )
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"--launch: {command!r} showed nothing on the screen within {timeout:g} s."
                )
            time.sleep(0.05)
        wait_until_settled(screen, config=SettleConfig(quiet_seconds=0.3, cap_seconds=5.0))
        yield proc
    finally:
        end_process(proc)


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
