"""One exception hierarchy: every message names the file, the place and the problem in Chinese."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class GaizaoError(Exception):
    """Base class of every error the tool reports to a user."""


@dataclass
class Problem:
    """One problem found in an input: where it is and what is wrong."""

    file: Path | str
    problem: str
    field: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f" 第{self.line}行"
        if self.field:
            where += f" {self.field}"
        return f"{where}：{self.problem}"


class DataError(GaizaoError):
    """Input data that cannot be read or does not fit the schema."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class TemplateError(GaizaoError):
    """A template that is missing, broken or asks for a field the data does not provide."""


class OutputError(GaizaoError):
    """The output folder cannot be written safely."""


def data_error(file: Path | str, problem: str, field: str = "", line: int | None = None) -> DataError:
    """Build a DataError holding a single problem."""
    return DataError([Problem(file=file, problem=problem, field=field, line=line)])
