"""Scorecard files: the shipped defaults or the studio's own, read once at start and handed to
projections/ as data (projections/ parses and checks them; it opens no file)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from projections.scoring.scorecards import ScorecardError, Scorecards, parse_scorecards

DEFAULTS = ("projections.scoring", "default_scorecards.yaml")


def load_scorecards(path: str | Path | None = None) -> Scorecards:
    """The scorecards in the file at `path`, or the shipped defaults. Raises ScorecardError
    naming the file and what is wrong."""
    if path is None:
        package, name = DEFAULTS
        text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
        where = "default scorecards"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ScorecardError(f"{path}: cannot be read: {exc.strerror}") from None
        where = str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScorecardError(f"{where}: not valid YAML: {exc}") from None
    return parse_scorecards(raw, where)
