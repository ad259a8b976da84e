"""The KPI formulas: one function per formula name, from a period's figures to a KPI's value.

A scorecard names each KPI's formula (projections/scoring/scorecards.py checks the name and the
source it goes with); `FORMULAS` maps the name to its function, as the session fold maps event
types to handlers. A formula sets `actual`, and may default the target (a host's tenure sales
target, the previous period's views for growth).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from projections.clock import ratio
from projections.scoring.figures import Range, Sums
from projections.scoring.rules import KpiValue, months_on_air, tenure_sales_target
from projections.scoring.scorecards import KpiDef, Scorecards


@dataclass(frozen=True, slots=True)
class FormulaInputs:
    """What a formula may read: the KPI, the person's role and ledger, the period's sums (and
    the previous period's, for growth), the range and the scorecards in force."""

    kpi: KpiDef
    role: str
    ledger: dict[str, Any]
    sums: Sums
    previous: Sums | None
    rng: Range
    cards: Scorecards


Formula = Callable[[FormulaInputs, KpiValue], None]


def _net_gmv(given: FormulaInputs, value: KpiValue) -> None:
    value.actual = (given.sums.gmv_fen - given.sums.refunds_fen) / 100
    if value.target is None and given.role == "host":
        months = months_on_air(given.ledger.get("on_air_since"), given.rng.period)
        value.target = tenure_sales_target(months, given.cards.host_sales_targets)
        value.target_source = "tenure"


def _interaction_rate(given: FormulaInputs, value: KpiValue) -> None:
    value.actual = ratio(given.sums.interacting_viewers, given.sums.unique_viewers)


def _new_followers(given: FormulaInputs, value: KpiValue) -> None:
    value.actual = given.sums.new_followers


def _conversion_rate(given: FormulaInputs, value: KpiValue) -> None:
    value.actual = ratio(given.sums.buyers, given.sums.unique_viewers)


def _views_growth(given: FormulaInputs, value: KpiValue) -> None:
    value.actual = given.sums.views
    if value.target is None and given.previous is not None:
        value.target = given.previous.views or None
        value.target_source = "previous_period"


def _promoted_viewers(given: FormulaInputs, value: KpiValue) -> None:
    value.actual = given.sums.promoted_viewers


def _promoted_conversion(given: FormulaInputs, value: KpiValue) -> None:
    value.actual = ratio(given.sums.promoted_buyers, given.sums.promoted_viewers)


def _incident_penalty(given: FormulaInputs, value: KpiValue) -> None:
    value.actual = given.sums.incidents  # points: rules.incident_points


def _roi(given: FormulaInputs, value: KpiValue) -> None:
    value.actual = ratio(given.sums.gmv_fen, given.sums.ad_spend_fen)


def _gpm(given: FormulaInputs, value: KpiValue) -> None:
    views = given.sums.views
    value.actual = None if not views else given.sums.gmv_fen / 100 / views * 1000


def _recorded(given: FormulaInputs, value: KpiValue) -> None:
    entry = given.ledger.get("metrics", {}).get(given.rng.period, {}).get(given.kpi.key)
    value.actual = None if entry is None else float(entry[0])


def _mean_rating(given: FormulaInputs, value: KpiValue) -> None:
    values = [
        v
        for kind, v, _rater, at in given.ledger.get("ratings", [])
        if kind == given.kpi.key and given.rng.holds(at)
    ]
    value.actual = sum(values) / len(values) if values else None


FORMULAS: dict[str, Formula] = {
    "net_gmv": _net_gmv,
    "interaction_rate": _interaction_rate,
    "new_followers": _new_followers,
    "conversion_rate": _conversion_rate,
    "views_growth": _views_growth,
    "promoted_viewers": _promoted_viewers,
    "promoted_conversion": _promoted_conversion,
    "incident_penalty": _incident_penalty,
    "roi": _roi,
    "gpm": _gpm,
    "recorded": _recorded,
    "mean_rating": _mean_rating,
}
