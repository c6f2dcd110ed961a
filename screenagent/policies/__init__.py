"""Policies decide the next action from the task, the current frame and the history."""

from .base import Policy, Proposal, StepContext
from .scripted import ReplayPolicy, ScriptedPolicy, load_script

__all__ = [
    "Policy",
    "Proposal",
    "ReplayPolicy",
    "ScriptedPolicy",
    "StepContext",
    "load_script",
]
