"""Rendering: Word and Excel templates compiled once and filled from a context, and the shared filters.

Knows no document: a renderer is handed a template, a context and (for Excel) the blocks of
program-written rows. May import: generator.errors only.
"""
