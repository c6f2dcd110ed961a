"""YAML test files: loading with line numbers, ``${VAR}`` substitution, pydantic validation.

A file names an app to launch, a display size, variables and a list of tests; each test is a
list of steps. A step is a mapping whose one step key (``click``, ``type``, ...) holds its main
argument; the step's options sit beside it or inside a mapping under the key:

    - type: "${USER}"          - drag: {from: "Item 3", to: "Drop here"}
      into: "Username"         - expect_text: {in: "Status", contains: "Saved"}

Every mistake is reported with the file and line it is on, and nothing runs.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import UserError
from ..steps.model import (
    DEFAULT_TIMEOUTS,
    STEP_TYPES,
    StepSpec,
    _check_target,
    parse_duration,
)


class TestFileError(UserError):
    """A test file cannot be used; the message names the file and line of every problem."""

    __test__ = False  # not a pytest test class

    exit_code = 2


# --- YAML with line numbers ------------------------------------------------------------------


class _Map(dict[str, Any]):
    line: int = 0
    key_lines: dict[str, int]


class _Seq(list[Any]):
    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    out = _Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[str(key)] = key_node.start_mark.line + 1
    return out


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq(loader.construct_object(n, deep=True) for n in node.value)
    out.line = node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def _line_of(data: Any, loc: tuple[int | str, ...]) -> int:
    """The line of the deepest node on ``loc`` that we know the line of."""
    line = getattr(data, "line", 1)
    node = data
    for part in loc:
        if isinstance(node, _Map) and isinstance(part, str) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, _Seq) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = getattr(node, "line", line)
        else:
            break
    return line


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _substitute(value: Any, variables: dict[str, str], problems: list[str], line: int) -> Any:
    """Replace ``${NAME}`` in every string, from the file's vars, then the environment."""
    if isinstance(value, str):

        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in variables:
                return variables[name]
            if name in os.environ:
                return os.environ[name]
            problems.append(
                f"line {line}: unknown variable ${{{name}}}: define it under vars: or in the "
                "environment"
            )
            return m.group(0)

        return _VAR.sub(repl, value)
    if isinstance(value, _Map):
        out = _Map()
        out.line, out.key_lines = value.line, value.key_lines
        for k, v in value.items():
            out[k] = _substitute(v, variables, problems, value.key_lines.get(k, value.line))
        return out
    if isinstance(value, _Seq):
        seq = _Seq(
            _substitute(v, variables, problems, getattr(v, "line", value.line)) for v in value
        )
        seq.line = value.line
        return seq
    return value


def _field_names(t: type[StepSpec]) -> dict[str, str]:
    """YAML key -> field name (``in`` -> ``in_``)."""
    return {(f.alias or name): name for name, f in t.model_fields.items() if name != "line"}


def parse_step(raw: Any, where: str) -> StepSpec:
    """One step mapping -> its model. Raises ValueError with a message (no line: the caller
    knows it)."""
    if isinstance(raw, str) and raw in STEP_TYPES:
        raw = {raw: None}  # `- expect_no_errors`: a step with nothing to say
    if isinstance(raw, str):
        raise ValueError(
            f'{where}: a step is a mapping such as `- click: "OK"`, not the text {raw!r}'
        )
    if not isinstance(raw, dict):
        raise ValueError(f'{where}: a step is a mapping such as `- click: "OK"`')
    verbs = [k for k in raw if k in STEP_TYPES]
    if not verbs:
        unknown = ", ".join(repr(k) for k in raw)
        raise ValueError(f"{where}: unknown step {unknown}; steps are: {', '.join(STEP_TYPES)}")
    if len(verbs) > 1:
        raise ValueError(f"{where}: one step per list item, this one has {', '.join(verbs)}")
    verb = verbs[0]
    model = STEP_TYPES[verb]
    names = _field_names(model)
    data: dict[str, Any] = {}
    value = raw[verb]
    if isinstance(value, dict):
        data.update(value)
    elif value is not None:
        key = next(k for k, n in names.items() if n == model.primary)
        data[key] = value
    for k, v in raw.items():
        if k != verb:
            data[k] = v
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"])
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = f"unknown option for {verb} (it takes: {', '.join(names)})"
            elif e["type"] == "missing":
                msg = "missing" + (
                    f" (write `- {verb}: ...`)" if names.get(loc) == model.primary else ""
                )
            parts.append(f"{loc}: {msg}" if loc else msg)
        raise ValueError(f"{where}: {verb}: " + "; ".join(parts)) from None


# --- files ------------------------------------------------------------------------------------


class AppSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    launch: list[str]
    ready: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    timeout: float = 30.0

    @field_validator("launch", mode="before")
    @classmethod
    def _argv(cls, v: Any) -> Any:
        return shlex.split(v) if isinstance(v, str) else v

    _t = field_validator("ready")(classmethod(lambda cls, v: _check_target(v)))
    _d = field_validator("timeout", mode="before")(classmethod(lambda cls, v: parse_duration(v)))


class DisplaySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: str = "1280x800"
    desktop: Literal["full", "bare"] = "full"
    """full: a window manager, a session bus and the accessibility bus; bare: Xvfb alone."""

    @field_validator("size")
    @classmethod
    def _size(cls, v: str) -> str:
        from ..display import parse_size

        parse_size(v)
        return v


class TestSpec(BaseModel):
    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    steps: list[StepSpec]
    line: int = 0


class TestFile(BaseModel):
    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    path: Path
    name: str
    tags: list[str] = Field(default_factory=list)
    app: AppSpec | None = None
    display: DisplaySpec = Field(default_factory=DisplaySpec)
    isolation: Literal["test", "file"] = "test"
    allow_errors: bool = False
    """An error that appears on the screen does not fail the file's tests."""
    vars: dict[str, str] = Field(default_factory=dict)
    timeouts: dict[Literal["action", "expect", "optional", "wait"], float] = Field(
        default_factory=dict
    )
    before_each: list[StepSpec] = Field(default_factory=list)
    after_each: list[StepSpec] = Field(default_factory=list)
    tests: list[TestSpec]

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def timeout(self, kind: str) -> float:
        return self.timeouts.get(kind, DEFAULT_TIMEOUTS[kind])  # type: ignore[call-overload]


_FILE_KEYS = set(TestFile.model_fields) - {"path"}


def _read_yaml(path: Path) -> _Map:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TestFileError(f"{path}: cannot read the test file: {exc.strerror or exc}") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TestFileError(f"{path}: {where}not valid YAML: {problem}") from None
    if not isinstance(data, _Map):
        raise TestFileError(f"{path}: line 1: a test file is a mapping with `name:` and `tests:`")
    return data


class _FileParser:
    """Collects every problem of one file (with its line) while building its parts."""

    def __init__(self, data: _Map) -> None:
        self.problems: list[str] = []
        variables = {str(k): str(v) for k, v in (data.get("vars") or {}).items()}
        self.data: _Map = _substitute(data, variables, self.problems, data.line)

    def steps(self, raw: Any, where: str, loc: tuple[int | str, ...]) -> list[StepSpec]:
        out: list[StepSpec] = []
        if raw is None:
            return out
        if not isinstance(raw, list):
            self.problems.append(f"line {_line_of(self.data, loc)}: {where} must be a list of steps")
            return out
        for i, item in enumerate(raw):
            line = getattr(item, "line", _line_of(self.data, (*loc, i)))
            try:
                step = parse_step(item, f"{where}, step {i + 1}")
            except ValueError as exc:
                self.problems.append(f"line {line}: {exc}")
                continue
            step.line = line
            out.append(step)
        return out

    def test(self, i: int, raw: Any) -> TestSpec | None:
        line = getattr(raw, "line", 1)
        if not isinstance(raw, _Map):
            self.problems.append(f"line {line}: test {i + 1} must be a mapping with name: and steps:")
            return None
        for key in sorted(set(raw) - {"name", "tags", "steps"}):
            self.problems.append(f"line {raw.key_lines.get(key, line)}: test {i + 1}: unknown key "
                                 f"{key!r} (a test has name, tags, steps)")  # fmt: skip
        name = raw.get("name") or f"test {i + 1}"
        parsed = self.steps(raw.get("steps"), f"test {name!r}", ("tests", i, "steps"))
        if not raw.get("steps"):
            self.problems.append(f"line {line}: test {name!r} has no steps")
        try:
            return TestSpec(name=str(name), tags=raw.get("tags") or [], steps=parsed, line=line)
        except ValidationError as exc:
            for e in exc.errors():
                self.problems.append(f"line {line}: test {i + 1}: {e['loc'][0]}: {e['msg']}")
            return None

    def tests(self) -> list[TestSpec]:
        raw_tests = self.data.get("tests")
        if not isinstance(raw_tests, list) or not raw_tests:
            self.problems.append(
                f"line {_line_of(self.data, ('tests',))}: `tests:` must be a non-empty list of tests"
            )
            return []
        tests = [t for i, raw in enumerate(raw_tests) if (t := self.test(i, raw)) is not None]
        names = [t.name for t in tests]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            self.problems.append(f"two tests are named {dup!r}: test names must be unique in a file")
        return tests

    def fields(self, path: Path) -> dict[str, Any]:
        data = self.data
        for key in data:
            if key not in _FILE_KEYS:
                self.problems.append(f"line {data.key_lines.get(key, 1)}: unknown key {key!r}; "
                                     f"a test file has: {', '.join(sorted(_FILE_KEYS))}")  # fmt: skip
        fields: dict[str, Any] = {k: v for k, v in data.items()
                                  if k in _FILE_KEYS and k not in ("tests", "before_each", "after_each")}  # fmt: skip
        fields["path"] = path.resolve()
        fields.setdefault("name", path.stem)
        fields["before_each"] = self.steps(data.get("before_each"), "before_each", ("before_each",))
        fields["after_each"] = self.steps(data.get("after_each"), "after_each", ("after_each",))
        fields["tests"] = self.tests()
        return fields

    def validate(self, fields: dict[str, Any]) -> TestFile | None:
        if self.problems:
            return None
        try:
            fields["timeouts"] = {k: parse_duration(v) for k, v in (fields.get("timeouts") or {}).items()}
        except ValueError as exc:
            self.problems.append(f"line {_line_of(self.data, ('timeouts',))}: timeouts: {exc}")
            return None
        try:
            return TestFile.model_validate(fields)
        except ValidationError as exc:
            for e in exc.errors():
                loc = tuple(e["loc"])
                msg = e["msg"].removeprefix("Value error, ")
                dotted = ".".join(str(p) for p in loc)
                self.problems.append(f"line {_line_of(self.data, loc)}: {dotted}: {msg}")
            return None


def load_test_file(path: str | Path) -> TestFile:
    """Read and validate one YAML test file; TestFileError lists every problem with its line."""
    path = Path(path)
    parser = _FileParser(_read_yaml(path))
    found = parser.validate(parser.fields(path))
    if found is not None:
        return found
    problems = parser.problems
    raise TestFileError(
        f"{path}: {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n"
        + "\n".join(f"  {p}" for p in problems)
    )


def collect_files(paths: list[str | Path]) -> list[Path]:
    """YAML test files from files and folders (folders: ``test_*.yaml``/``*.test.yaml``)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(
                f
                for pattern in ("test_*.yaml", "test_*.yml", "*.test.yaml", "*.test.yml")
                for f in p.rglob(pattern)
            )
        elif p.exists():
            found.append(p)
        else:
            raise TestFileError(f"{p}: no such file or folder")
    return list(dict.fromkeys(found))
