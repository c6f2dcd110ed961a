"""pytest plugin: YAML GUI tests as pytest items, and fixtures for GUI tests in Python.

Installed with screenagent (entry point ``pytest11``): ``pytest tests/gui/`` collects
``test_*.yaml`` / ``*.test.yaml`` files and runs each test in them on its own virtual display,
with pytest's reporting (``-k``, ``--junitxml``, ``-x`` ...). Fixtures for Python tests:

    def test_submit(launch_app, gui):
        launch_app(["python3", "app.py"], ready="Submit")
        gui.type("ada", into="Name")
        gui.click("Submit")
        gui.expect_visible("Thank you, ada!")

``virtual_display`` (a private Xvfb, 1280x800), ``launch_app`` (starts a program there, waits
for its ready target, ends it by PID afterwards) and ``gui`` (a `screenagent.Session` on that display, with
the step vocabulary as methods; its step log goes to the test's tmp_path).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .spec import TestFile, TestFileError, TestSpec, load_test_file


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("screenagent", "screenagent YAML GUI tests")
    group.addoption("--gui-report", metavar="DIR", default=None,
                    help="keep the YAML tests' step screenshots under DIR (default: a temporary folder)")  # fmt: skip
    group.addoption("--gui-timeout-scale", type=float, default=1.0, metavar="X",
                    help="multiply the YAML tests' timeouts")  # fmt: skip
    group.addoption("--gui-shard", metavar="I/N", default=None,
                    help="run only the I-th of N disjoint parts of the collected tests (CI machines side by side)")  # fmt: skip
    group.addoption("--gui-durations", metavar="SUMMARY", default=None,
                    help="balance --gui-shard by the test times of an earlier summary.json")  # fmt: skip
    group.addoption("--gui-cache", metavar="FILE", default=None,
                    help="a grounding cache for the YAML tests (under pytest-xdist each worker's new "
                    "entries are merged into FILE at the end)")  # fmt: skip
    group.addoption("--gui-cache-mode", choices=("read-write", "read-only"), default="read-write",
                    help="read-only: use FILE, never write it (CI with a committed cache)")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    from .xdist_support import GuiSession

    config.pluginmanager.register(GuiSession(config), "screenagent-gui-session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--gui-shard I/N``: keep this shard's items (every worker computes the same split)."""
    text = config.getoption("--gui-shard")
    if not text:
        return
    from .scale import Shard, assign, load_durations

    shard = Shard.parse(text)
    path = config.getoption("--gui-durations")
    durations = load_durations(path) if path else {}
    mine = assign({item.nodeid: durations.get(item.nodeid) for item in items}, shard)
    keep = [item for item in items if item.nodeid in mine]
    dropped = [item for item in items if item.nodeid not in mine]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _is_test_yaml(path: Path) -> bool:
    name = path.name
    return path.suffix in (".yaml", ".yml") and (
        name.startswith("test_") or name.endswith((".test.yaml", ".test.yml"))
    )


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if _is_test_yaml(file_path):
        return YamlFile.from_parent(parent, path=file_path)
    return None


class YamlTestFailed(Exception):
    pass


class YamlFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            tf = load_test_file(self.path)
        except TestFileError as exc:
            raise self.CollectError(str(exc)) from None
        for spec in tf.tests:
            item = YamlItem.from_parent(self, name=spec.name, spec=spec, test_file=tf)
            item.extra_keyword_matches.update({*tf.tags, *spec.tags})  # `-k smoke` selects by tag
            yield item


class YamlItem(pytest.Item):
    def __init__(self, *, spec: TestSpec, test_file: TestFile, **kw: Any) -> None:
        super().__init__(**kw)
        self.spec = spec
        self.test_file = test_file

    def runtest(self) -> None:
        from ..cli.support import require_ocr
        from .runner import RunOptions, run_file_tests, slug
        from .xdist_support import result_json

        require_ocr()
        report = self.config.getoption("--gui-report")
        base = Path(report) if report else self.config._tmp_path_factory.mktemp(slug(self.name))  # type: ignore[attr-defined]
        opts = RunOptions(
            report_dir=base.resolve(), timeout_scale=self.config.getoption("--gui-timeout-scale")
        )
        gui = self.config.pluginmanager.get_plugin("screenagent-gui-session")
        (result,) = run_file_tests(self.test_file, [self.spec], opts, gui.cache if gui else None)
        self.user_properties.append(("screenshots", result.attempts[-1].artifacts))
        # the whole result travels with the report (to the xdist controller too): one report
        self.user_properties.append(("screenagent_result", result_json(result)))
        if result.status not in ("passed", "flaky"):
            raise YamlTestFailed(result.message or result.status)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, YamlTestFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.spec.line - 1, f"{self.test_file.name} › {self.spec.name}"


# -- fixtures for Python tests ---------------------------------------------------------------------


@pytest.fixture
def virtual_display() -> Iterator[Any]:
    """A private Xvfb (1280x800x24); DISPLAY points at it while the test runs."""
    from ..display import VirtualDisplay

    with VirtualDisplay(1280, 800) as vd:
        yield vd


@pytest.fixture
def gui(virtual_display: Any, tmp_path: Path) -> Iterator[Any]:
    """A `screenagent.Session` attached to the virtual display (OCR grounding, the step
    vocabulary as methods); its step log (a run directory: `screenagent report` opens it) is
    tmp_path/gui."""
    from ..session import Session

    with Session(display=virtual_display.display, run_dir=tmp_path / "gui", failsafe=False,
                 task="pytest gui fixture") as session:  # fmt: skip
        yield session


@pytest.fixture
def launch_app(virtual_display: Any, gui: Any) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """``launch_app(argv, ready=None, timeout=30, cwd=None)``: start an app on the virtual
    display and wait until ``ready`` is visible; every app started is ended afterwards."""
    from ..display import end_process

    started: list[subprocess.Popen[bytes]] = []

    def launch(argv: list[str], *, ready: str | None = None, timeout: float = 30.0,
               cwd: str | Path | None = None) -> subprocess.Popen[bytes]:  # fmt: skip
        proc = subprocess.Popen(list(argv), cwd=cwd, env={**os.environ, **virtual_display.env},
                                stdin=subprocess.DEVNULL)  # fmt: skip
        started.append(proc)
        if ready is not None:
            gui.wait_for(ready, timeout=timeout)
        return proc

    yield launch
    for proc in reversed(started):
        end_process(proc)
