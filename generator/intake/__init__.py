"""Intake: data coming in from outside, such as a plan workbook, and a new city's data folder.

May import: generator.errors, generator.data, generator.render, generator.output.writer (atomic writes).
"""
