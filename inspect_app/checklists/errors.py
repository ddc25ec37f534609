"""Problems found in checklist files, and the domain error that carries them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import DomainError


@dataclass
class Problem:
    """One thing wrong with a checklist file, with where it is and what was expected.

    `message` and `expected` may be lazy strings: they render in the locale active when shown.
    A YAML problem has line/column (1-based); a workbook problem has sheet and cell.
    """

    source: str
    path: str = ""
    message: Any = ""
    expected: Any = ""
    line: int | None = None
    column: int | None = None
    sheet: str | None = None
    cell: str | None = None

    @property
    def where(self) -> str:
        if self.sheet:
            return (
                f"{self.source}:{self.sheet}!{self.cell}"
                if self.cell
                else f"{self.source}:{self.sheet}"
            )
        if self.line is not None:
            return f"{self.source}:{self.line}:{self.column or 1}"
        return self.source

    @property
    def text(self) -> str:
        """The message with what was expected, in the current locale (no location)."""
        if self.expected:
            return _(
                "%(message)s (expected %(expected)s)", message=self.message, expected=self.expected
            )
        return str(self.message)

    def __str__(self) -> str:
        """`file:line:column: path.to.field: message (expected …)`."""
        parts = [self.where]
        if self.path:
            parts.append(self.path)
        parts.append(self.text)
        return ": ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "source": self.source,
            "line": self.line,
            "column": self.column,
            "sheet": self.sheet,
            "cell": self.cell,
            "path": self.path,
            "message": str(self.message),
            "expected": str(self.expected) if self.expected else "",
        }


class ChecklistError(DomainError):
    """A checklist file (or a load of several) was refused; `problems` lists every reason."""

    status_code = 400
    code = "checklist_invalid"

    def __init__(self, problems: list[Problem], message: Any = None):
        self.problems = list(problems)
        super().__init__(
            message or _l("The checklist has problems; nothing was saved."),
            details=None,
        )

    @property
    def details_json(self) -> list[dict[str, Any]]:
        return [p.as_dict() for p in self.problems]


def dotted(path: tuple | list) -> str:
    """('sections', 0, 'items', 2, 'code') -> 'sections.0.items.2.code'."""
    return ".".join(str(p) for p in path)
