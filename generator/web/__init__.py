"""The web front end (网页版): a Flask app over the same core as the command line.

Pages and a small JSON API for street offices, districts and the city: accounts and roles in an
instance folder, one permission check asked by every view, project editing through the same
data folder the CLI reads. May import every other package except the CLI; never imports click.
"""

from generator.web.app import create_app

__all__ = ["create_app"]
