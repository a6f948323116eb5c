"""Rules: the programme's named checks and who pays what (the 5:4:1 and before/after-meter splits).

May import: generator.errors, generator.data, generator.render.filters (money arithmetic and wording).
"""
