"""Scoring rules as pure functions; bad scorecard files are refused naming the KPI."""

from __future__ import annotations

from pathlib import Path

import pytest

from projections.scoring.rules import (
    KpiValue,
    grade,
    incident_fraction,
    months_on_air,
    points,
    rank,
    score_person,
    tenure_sales_target,
)
from projections.scoring.scorecards import ScorecardError, parse_scorecards
from service.process.scorecard_files import load_scorecards

CARDS = load_scorecards()


@pytest.mark.parametrize(
    ("since", "month", "target"),
    [
        ("2026-11-20", 1, None),  # first month on air: no sales target
        ("2026-10-01", 2, 5000.0),
        ("2026-08-31", 4, 10000.0),
        ("2026-05-01", 7, None),  # past the rule book's six months: none either
    ],
)
def test_host_sales_target_by_months_on_air(since: str, month: int, target: float | None) -> None:
    assert months_on_air(since, "2026-11") == month
    assert tenure_sales_target(month, CARDS.host_sales_targets) == target


def test_points_are_capped() -> None:
    assert points(0.4, 1.5, 1.2) == pytest.approx(48)
    assert points(0.4, 0.5, 1.2) == pytest.approx(20)


def test_incidents_lose_a_quarter_each_down_to_zero() -> None:
    assert [incident_fraction(n, 0.25) for n in (0, 1, 3, 4, 9)] == [1, 0.75, 0.25, 0, 0]


def test_grades_and_ranks() -> None:
    assert [grade(s, CARDS.grades) for s in (90, 89.9999999, 75, 60, 59.9)] == [
        "A",
        "A",
        "B",
        "C",
        "D",
    ]
    assert rank([80, 95, 80, 10]) == [2, 1, 2, 4]


def test_weights_are_rescaled_over_the_kpis_with_targets() -> None:
    values = {
        "gmv": KpiValue(4000, 5000),
        "interaction_rate": KpiValue(0.5, None),
        "new_followers": KpiValue(3, 10),
        "conversion_rate": KpiValue(0.5, None),
    }
    card = score_person("h", "host", values, CARDS)
    # gmv 0.4 and followers 0.2 become 2/3 and 1/3: 2/3 * 80 + 1/3 * 30
    assert card.score == pytest.approx(2 / 3 * 80 + 1 / 3 * 30)
    assert card.complete is False


def test_a_person_with_no_target_at_all_scores_zero() -> None:
    values = {k.key: KpiValue(1, None) for k in CARDS.roles["host"]}
    card = score_person("h", "host", values, CARDS)
    assert (card.score, card.complete) == (0, False)


def _raw(**changes: object) -> dict[str, object]:
    role = [
        {
            "key": "gmv",
            "weight": 0.6,
            "source": "derived",
            "direction": "higher",
            "formula": "net_gmv",
        },
        {"key": "dsr", "weight": 0.4, "source": "recorded", "direction": "higher"},
    ]
    raw: dict[str, object] = {"roles": {"supervisor": role}}
    raw.update(changes)
    return raw


def test_a_valid_override_loads() -> None:
    assert [k.key for k in parse_scorecards(_raw()).roles["supervisor"]] == ["gmv", "dsr"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"weight": 0.5}, "role supervisor: weights sum to 1.1, not 1"),
        ({"direction": "sideways"}, "role supervisor, KPI dsr: direction"),
        ({"source": "astrology"}, "role supervisor, KPI dsr: source"),
        ({"formula": "vibes"}, "role supervisor, KPI dsr: unknown formula"),
        ({"colour": "red"}, "role supervisor, KPI dsr: unknown field"),
    ],
)
def test_bad_scorecards_are_refused_naming_role_and_kpi(
    change: dict[str, object], words: str
) -> None:
    raw = _raw()
    kpi = raw["roles"]["supervisor"][1]
    kpi.update(change)
    with pytest.raises(ScorecardError, match=words):
        parse_scorecards(raw)


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ScorecardError, match="role 'chef'"):
        parse_scorecards({"roles": {"chef": [{"key": "x", "weight": 1, "source": "recorded"}]}})


def test_every_formula_a_scorecard_may_name_has_a_function() -> None:
    from projections.scoring.formulas import FORMULAS
    from projections.scoring.scorecards import FORMULA_SOURCES

    assert set(FORMULAS) == set(FORMULA_SOURCES)


def test_a_scorecard_file_that_cannot_be_read_is_a_scorecard_error(tmp_path: Path) -> None:
    with pytest.raises(ScorecardError, match=r"missing\.yaml: cannot be read"):
        load_scorecards(tmp_path / "missing.yaml")
