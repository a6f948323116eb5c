"""The command line: click options in, one call into the core, errors out on stderr with a non-zero exit.

The only package that imports click. May import every other package.
"""

from generator.cli.main import main

__all__ = ["main"]
