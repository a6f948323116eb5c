"""Intake: data coming in from outside, such as a plan workbook, a returned 填报表, and a new city's
data folder; and the data folder's writer lock (writelock), which every writer of project data holds.

May import: generator.errors, generator.data, generator.render, generator.rules (the funding split
a 填报表 shows), generator.documents (its names for the funding rules), generator.output.writer
(atomic writes) and generator.output.oslock (the file lock between processes).
"""
