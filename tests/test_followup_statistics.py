"""The statistics: what they count, with disclosure control outside the owning municipality,
in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from avhopp.models import Role
from cases.models import CaseStatus, EndReason
from followup.selectors import Period, statistics
from tests.followup_support import cases_in, ended, supported

pytestmark = pytest.mark.django_db


def _period() -> Period:
    today = timezone.localdate()
    return Period(today - timedelta(days=364), today)


def _cells(table) -> dict[str, tuple]:
    return {row.label: row.cells for row in table.rows}


@pytest.fixture
def counted(make_case, worker, coordinator, other_municipality, make_user):
    own = cases_in(make_case, worker, 7)
    for case in own[:6]:
        supported(case, worker, housing_in=4)
    ended(own[0], worker, CaseStatus.DROPPED_OUT, EndReason.NEW_CRIME)
    other_worker = make_user(other_municipality, Role.SOCIAL_WORKER)
    cases_in(make_case, other_worker, 2)
    return own


def test_a_municipality_sees_its_own_figures_unsuppressed(counted, coordinator) -> None:
    figures = statistics(coordinator, _period())
    assert not figures.scope.national
    assert _cells(figures.active) == {
        "Stockholm": (6,),
        "Södertälje kommun": (6,),
        "Totalt": (6,),
    }
    assert _cells(figures.outcomes)["Ny brottslighet"] == (0, 1, 1)
    first_support, housing = figures.medians
    assert (first_support.days, first_support.count) == (30, 6)
    assert (housing.days, housing.count) == (4, 6)
    assert _cells(figures.interventions)["Akut boende"] == (6,)


def test_the_national_figures_hide_small_counts_and_their_partners(counted, national) -> None:
    figures = statistics(national, _period())
    assert figures.scope.national
    active = _cells(figures.active)
    assert active["Botkyrka kommun"] == (None,)  # 2 cases: primary
    assert active["Södertälje kommun"] == (None,)  # secondary: else 8 - 2 gives it away
    assert active["Totalt"] == (8,)
    outcomes = _cells(figures.outcomes)
    assert outcomes["Ny brottslighet"][1] is None
    assert all(cell is None or cell == 0 or cell >= 5 for row in outcomes.values() for cell in row)


def test_the_figures_cost_a_fixed_number_of_queries(make_case, worker, national) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            statistics(national, _period())
        return len(captured)

    cases_in(make_case, worker, 2)
    few = queries()
    for case in cases_in(make_case, worker, 8):
        supported(case, worker)
    assert queries() == few
