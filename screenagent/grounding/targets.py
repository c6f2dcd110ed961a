"""Target text -> `Target`: quoting, ``text:``/``regex:``/``image:``, ``#N``, relations."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Literal

from ..errors import ConfigError
from ..geometry import Box
from .model import _RELATIONS, Relation, Target
from .roles import qualifier, unknown_role

_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}


def _unquote(text: str) -> tuple[str, bool]:
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == _QUOTES[text[0]]:
        return text[1:-1], True
    return text, False


def _split_relation(text: str) -> tuple[str, Relation, str] | None:
    """Split ``X <relation> Y`` at the first relation word outside quotes."""
    in_quote: str | None = None
    lowered = text.lower()
    i = 0
    while i < len(text):
        ch = text[i]
        if in_quote:
            if ch == _QUOTES[in_quote]:
                in_quote = None
        elif ch in _QUOTES:
            in_quote = ch
        elif ch == " " and i > 0:
            for rel in _RELATIONS:
                token = f" {rel} "
                if lowered.startswith(token, i):
                    left, right = text[:i].strip(), text[i + len(token) :].strip()
                    if left and right:
                        return left, rel, right
        i += 1
    return None


_ROLE = re.compile(r"^(?P<role>[a-z][a-z ]{0,14}?):(?!//)\s*(?P<rest>\S.*)$")
"""``button:Save``, ``list item: Inbox`` (lower-case words, a colon; not ``http://``)."""

_REGION = re.compile(r"^\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*$")
_NTH = re.compile(r"^(?P<body>.*?)\s*(?:#|\bnth\s*=\s*)(?P<n>-?\d+)\s*$", re.IGNORECASE)


def parse_target(text: str) -> Target:
    """Parse a target description; raises ConfigError for an empty or malformed one."""
    raw = text.strip()
    if not raw:
        raise ConfigError("An empty target: name the text, `regex:...` or `image:...` to find.")
    split = _split_relation(raw)
    if split is not None:
        left, rel, right = split
        base = parse_target(left)
        if rel == "in" and (m := _REGION.match(right)):
            x, y, w, h = (int(g) for g in m.groups())
            return replace(base, relation="in", region=Box(x1=x, y1=y, x2=x + w, y2=y + h), raw=raw)
        return replace(base, relation=rel, anchor=parse_target(right), raw=raw)
    nth = None
    body = raw
    unq, quoted = _unquote(body)
    if not quoted and (m := _NTH.match(body)):
        body, nth = m.group("body"), int(m.group("n"))
        if nth == 0:
            raise ConfigError(f"In target {raw!r}: #N counts from 1 (#-1 is the last).")
        unq, quoted = _unquote(body)
    value = unq
    kind: Literal["text", "regex", "image"] = "text"
    if not quoted:
        for prefix in ("text:", "regex:", "image:"):
            if value.lower().startswith(prefix):
                kind = prefix[:-1]  # type: ignore[assignment]
                value, _ = _unquote(value[len(prefix) :])
                break
    role = None
    if kind == "text" and not quoted and (m := _ROLE.match(value)):
        role = qualifier(m.group("role"))
        if role is None and " " not in m.group("role"):
            raise unknown_role(m.group("role"), raw)
        if role is not None:
            value, _ = _unquote(m.group("rest"))
    if not value:
        raise ConfigError(f"The target {raw!r} names nothing to find.")
    if kind == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            raise ConfigError(
                f"The target {raw!r} is not a valid regular expression: {exc}."
            ) from None
    return Target(kind=kind, value=value, nth=nth, role=role, raw=raw)


# --- text matching ----------------------------------------------------------------------------


