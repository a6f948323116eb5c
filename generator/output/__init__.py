"""Output: the one pipeline (plan → render → write → manifest), bound print files and PDF.

May import: generator.errors, generator.data, generator.rules, generator.render, generator.documents.
"""
