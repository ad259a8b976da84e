"""Commands flow in from the shell: every process starts here, reads Settings once, passes them on.

One module per kind of command: serve (the processes), admin (schema, tokens, parked streams),
data (rebuild, simulate, import, scores, review); common holds the group and the one place that
connects to (and migrates) the database.
"""

from service.cli import admin, backup, connections, data, serve, users
from service.cli.common import main

__all__ = ["admin", "backup", "connections", "data", "main", "serve", "users"]
