"""gaizao: paperwork pipeline for old residential community renovation programmes."""

__version__ = "0.1.0"
