"""gaizao: paperwork pipeline for old residential community renovation programmes."""

__version__ = "0.1.0"

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project folder: the bundled data/, templates/ and docs/ live here."""
