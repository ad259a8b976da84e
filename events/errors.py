"""The root of livetally's error tree. Every error livetally raises on purpose derives from
LivetallyError, so a caller can tell ours from a library's; each class's docstring says when it
is raised."""

from __future__ import annotations


class LivetallyError(Exception):
    """Raised for nothing by itself: the base of every livetally error."""
