"""Data: the programme's data model, exact YAML reading, and loading a data folder into one DataSet.

May import: generator.errors. Nothing here knows about rules, documents or output.
"""
