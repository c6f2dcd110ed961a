"""The two error channels.

`UserError` and its subclasses are for what a person must fix (configuration, environment,
input files); their message is one actionable paragraph and the CLI prints it without a
traceback (exit 2). What a policy or model can fix is not an exception of this family: it is
fed back to the policy as text (see `screenagent.policies.base.InvalidOutput`).
"""

from __future__ import annotations


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
