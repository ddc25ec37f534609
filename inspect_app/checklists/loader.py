"""Reading checklist files (YAML or XLSX) into validated templates, keeping line and cell positions.

YAML is composed into a node tree by PyYAML's pure-Python SafeLoader and turned into data here, so
every value keeps its line and column, duplicate keys are caught, and anchors/aliases (the way to
build a "billion laughs" file) are refused before anything is expanded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask import current_app
from flask_babel import lazy_gettext as _l
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from . import schema
from .errors import Problem, dotted

DEFAULT_MAX_BYTES = 1_000_000
YAML_SUFFIXES = (".yaml", ".yml")
XLSX_SUFFIXES = (".xlsx",)
_MAX_DEPTH = 40
_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def max_bytes() -> int:
    """The largest checklist file accepted (config CHECKLIST_MAX_BYTES, default 1 MB)."""
    return int(current_app.config.get("CHECKLIST_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass
class ParsedFile:
    """One file read and validated; `template` is None when there are problems."""

    source: str
    sha256: str = ""
    template: schema.TemplateModel | None = None
    problems: list[Problem] = field(default_factory=list)
    locate: Any = None
    fmt: str = "yaml"

    def problem_at(self, path: tuple, message: Any, expected: Any = "") -> Problem:
        where = self.locate(path, False) if self.locate else {}
        return Problem(
            source=self.source, path=dotted(path), message=message, expected=expected, **where
        )


# --- YAML ---------------------------------------------------------------------------------------


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases: each value must be written out where it is used."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            raise _AliasFound(event.start_mark)
        return super().compose_node(parent, index)


class _AliasFound(Exception):
    def __init__(self, mark):
        super().__init__("alias")
        self.mark = mark


class _Marks:
    """Positions of every value (and key) by path, for turning paths into line:column."""

    def __init__(self):
        self.values: dict[tuple, Any] = {}
        self.keys: dict[tuple, Any] = {}

    def locate(self, path: tuple, at_key: bool = False) -> dict[str, Any]:
        path = tuple(path)
        if at_key and path in self.keys:
            mark = self.keys[path]
        else:
            while path not in self.values and path:
                path = path[:-1]
            mark = self.values.get(path)
        if mark is None:
            return {"line": 1, "column": 1}
        return {"line": mark.line + 1, "column": mark.column + 1}


def _pos(mark) -> dict[str, int]:
    return {"line": mark.line + 1, "column": mark.column + 1}


def _empty(source: str) -> Problem:
    return Problem(
        source,
        message=_l("the file is empty"),
        expected=_l("a checklist template"),
        line=1,
        column=1,
    )


def read_yaml(raw: bytes, source: str) -> tuple[Any, Any, list[Problem]]:
    """Bytes of a YAML file -> (data, locate, problems). Data is None when it cannot be read."""
    marks = _Marks()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        return (
            None,
            marks.locate,
            [
                Problem(
                    source,
                    message=_l(
                        "the file is not UTF-8 text (byte 0x%(byte)s cannot be read)",
                        byte=f"{raw[err.start]:02x}",
                    ),
                    expected=_l("a file saved as UTF-8"),
                    line=line,
                    column=column,
                )
            ],
        )
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return None, marks.locate, [_empty(source)]
    loader = _NoAliasLoader(text)
    try:
        node = loader.get_single_node()
    except _AliasFound as err:
        return (
            None,
            marks.locate,
            [
                Problem(
                    source,
                    message=_l("anchors and aliases (& and *) are not allowed"),
                    expected=_l("every value written out where it is used"),
                    **_pos(err.mark),
                )
            ],
        )
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        detail = " ".join(x for x in (err.context, err.problem) if x)
        where = _pos(mark) if mark else {"line": 1, "column": 1}
        return (
            None,
            marks.locate,
            [
                Problem(
                    source,
                    message=_l(
                        "YAML syntax error (in the parser's words: %(detail)s)", detail=detail
                    ),
                    expected=_l("valid YAML"),
                    **where,
                )
            ],
        )
    except yaml.YAMLError as err:
        return (
            None,
            marks.locate,
            [
                Problem(
                    source,
                    message=_l(
                        "YAML syntax error (in the parser's words: %(detail)s)", detail=str(err)
                    ),
                    expected=_l("valid YAML"),
                    line=1,
                    column=1,
                )
            ],
        )
    except RecursionError:
        return (
            None,
            marks.locate,
            [
                Problem(
                    source,
                    message=_l("the file is nested too deeply"),
                    expected=_l("a checklist template"),
                    line=1,
                    column=1,
                )
            ],
        )
    finally:
        loader.dispose()
    if node is None:
        return None, marks.locate, [_empty(source)]
    problems: list[Problem] = []
    data = _construct(node, (), loader, marks, problems, source)
    return data, marks.locate, problems


def _construct(
    node, path: tuple, loader, marks: _Marks, problems: list[Problem], source: str
) -> Any:
    marks.values[path] = node.start_mark
    if len(path) > _MAX_DEPTH:
        problems.append(
            Problem(
                source,
                dotted(path),
                _l("the file is nested too deeply"),
                _l("a checklist template"),
                **_pos(node.start_mark),
            )
        )
        return None
    if isinstance(node, ScalarNode):
        try:
            return loader.construct_object(node)
        except yaml.YAMLError as err:
            problems.append(
                Problem(
                    source,
                    dotted(path),
                    _l(
                        "YAML value cannot be read: %(detail)s",
                        detail=getattr(err, "problem", "") or str(err),
                    ),
                    _l("plain text, numbers, true or false"),
                    **_pos(node.start_mark),
                )
            )
            return None
    if node.tag not in _PLAIN_TAGS:
        problems.append(
            Problem(
                source,
                dotted(path),
                _l("YAML tag %(tag)s is not allowed", tag=node.tag),
                _l("plain lists and mappings"),
                **_pos(node.start_mark),
            )
        )
        return None
    if isinstance(node, SequenceNode):
        return [
            _construct(child, (*path, i), loader, marks, problems, source)
            for i, child in enumerate(node.value)
        ]
    assert isinstance(node, MappingNode)
    result: dict[Any, Any] = {}
    first_line: dict[Any, int] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            problems.append(
                Problem(
                    source,
                    dotted(path),
                    _l("a key must be plain text"),
                    _l("name: value"),
                    **_pos(key_node.start_mark),
                )
            )
            continue
        key = _construct(key_node, (*path, "<key>"), loader, marks, problems, source)
        marks.values.pop((*path, "<key>"), None)
        try:
            hash(key)
        except TypeError:
            key = key_node.value
        child = (*path, key)
        if key in result:
            problems.append(
                Problem(
                    source,
                    dotted(child),
                    _l(
                        "duplicate key %(key)s; it is first used on line %(line)d",
                        key=key,
                        line=first_line[key],
                    ),
                    _l("each key once per mapping"),
                    **_pos(key_node.start_mark),
                )
            )
            continue
        first_line[key] = key_node.start_mark.line + 1
        marks.keys[child] = key_node.start_mark
        result[key] = _construct(value_node, child, loader, marks, problems, source)
    return result


# --- files --------------------------------------------------------------------------------------


def parse_bytes(raw: bytes, source: str, *, fmt: str | None = None) -> ParsedFile:
    """Read and validate one file's bytes. `fmt` is "yaml" or "xlsx" (by default from the name)."""
    fmt = fmt or ("xlsx" if source.lower().endswith(XLSX_SUFFIXES) else "yaml")
    parsed = ParsedFile(source=source, sha256=hashlib.sha256(raw).hexdigest(), fmt=fmt)
    limit = max_bytes()
    if len(raw) > limit:
        parsed.problems.append(_too_large(source, len(raw), limit))
        return parsed
    if fmt == "xlsx":
        from . import xlsx

        data, locate, problems = xlsx.read_workbook(raw, source)
    else:
        data, locate, problems = read_yaml(raw, source)
    parsed.locate = locate
    parsed.problems.extend(problems)
    if data is None:
        return parsed
    template, problems = schema.validate(data, source=source, locate=locate)
    # A value refused while reading is already reported; its schema echo ("is empty") is noise.
    unread = [p.path for p in parsed.problems if p.path]
    parsed.problems.extend(
        p for p in problems if not any(p.path == u or p.path.startswith(u + ".") for u in unread)
    )
    parsed.problems.sort(key=schema.problem_order)
    parsed.template = template if not parsed.problems else None
    return parsed


def _too_large(source: str, size: int, limit: int) -> Problem:
    return Problem(
        source,
        message=_l(
            "the file is %(size)s bytes, larger than the limit of %(limit)s bytes",
            size=size,
            limit=limit,
        ),
        expected=_l("a file of at most %(limit)s bytes", limit=limit),
    )


def parse_path(path: Path, source: str | None = None, *, fmt: str | None = None) -> ParsedFile:
    """Read and validate one file from disk; a file over the size limit is refused unread."""
    source = source or str(path)
    try:
        size = path.stat().st_size
        limit = max_bytes()
        if size > limit:
            return ParsedFile(source=source, problems=[_too_large(source, size, limit)])
        raw = path.read_bytes()
    except OSError as err:
        return ParsedFile(
            source=source,
            problems=[
                Problem(
                    source,
                    message=_l(
                        "the file cannot be read: %(reason)s", reason=err.strerror or str(err)
                    ),
                )
            ],
        )
    return parse_bytes(raw, source, fmt=fmt)


def default_folder() -> Path:
    """The repository's checklists/ folder, the source of truth for shipped templates."""
    return Path(current_app.root_path).parent / "checklists"


def discover(paths: list[str] | tuple[str, ...]) -> tuple[list[tuple[Path, str]], list[Problem]]:
    """Expand files and folders into (path, display name) of YAML/XLSX files, sorted per folder."""
    found: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if (
                    child.is_file()
                    and child.suffix.lower() in YAML_SUFFIXES
                    and not child.name.startswith(".")
                ):
                    found.append((child, str(child)))
        elif path.is_file():
            found.append((path, name))
        else:
            problems.append(
                Problem(
                    name,
                    message=_l("no such file or folder"),
                    expected=_l("a checklist file or a folder of them"),
                )
            )
    return found, problems
