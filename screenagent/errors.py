"""The two error channels.

`UserError` and its subclasses are for what a person must fix (configuration, environment,
input files); their message is one actionable paragraph and the CLI prints it without a
traceback (exit 2). What a policy or model can fix is not an exception of this family: it is
fed back to the model as text: `InvalidOutput`, handled by `screenagent.models.ask_structured`
and the agent loop.
"""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Something a person must fix; the message says what and how."""


class ConfigError(UserError):
    """Bad options, a bad script or settings that cannot work together."""


class DisplayError(UserError):
    """No display to capture or drive, or it stopped answering."""


class MissingDependency(UserError):
    """An optional package or system program is not installed."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(f"{what} is not installed. {hint}")
        self.what = what
        self.hint = hint


class BackendError(UserError):
    """The model could not be asked: its server is unreachable, refused the request, or kept
    failing after the bounded retries."""


class InvalidOutput(Exception):
    """A model answered something unusable (unparseable, invalid, outside the image).

    The retry helpers record it as a failed attempt and feed ``str(self)`` back to the model;
    it is never shown to the user as a crash. Deliberately not a `UserError`: a person cannot
    fix it.
    """

    def __init__(self, message: str, *, raw: str, meta: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.raw = raw
        self.meta = meta or {}
        """What the call cost (model, tokens, prompt), logged with the failed attempt."""
