"""The one Jinja environment every template renders in: sandboxed, strict, escaping, with shared filters."""

from __future__ import annotations

import re
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from generator.render.filters import FILL_IN, FILTERS

# Characters XML 1.0 cannot hold (tab and newline are kept; renderers turn them into tabs and breaks).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """Drop characters an Office file cannot store."""
    return _XML_INVALID.sub("", text)


def _finalize(value: Any) -> Any:
    """Print a missing optional value as a line to fill in, never 'None'."""
    if value is None:
        return FILL_IN
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return xml_safe(value)
    return value


def make_env(autoescape: bool) -> ImmutableSandboxedEnvironment:
    """A sandboxed environment: no Python internals, no files, a missing field is an error."""
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=autoescape,
        finalize=_finalize,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


XML_ENV = make_env(autoescape=True)
"""For Word XML: values are escaped, so & < > in a community's name print as written."""

TEXT_ENV = make_env(autoescape=False)
"""For spreadsheet cells, which openpyxl escapes itself."""

__all__ = ["XML_ENV", "TEXT_ENV", "xml_safe", "escape"]
