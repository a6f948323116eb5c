"""Documents: the registry of document kinds, and for each the context it is rendered from.

May import: generator.errors, generator.data, generator.rules, generator.render.
"""
