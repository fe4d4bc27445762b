"""The statistics: what they count, with disclosure control outside the owning municipality,
in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from avhopp.models import Role
from cases.models import CaseStatus, EndReason
from followup.selectors import Period, statistics
from tests.followup_support import cases_in, ended, followed_up, supported

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
        followed_up(case, worker, 6, 12)
    assert queries() == few


def test_outcomes_at_follow_up_per_point_with_the_share_answering_yes(
    make_case, worker, coordinator, national
) -> None:
    cases = cases_in(make_case, worker, 7)
    for n, case in enumerate(cases):
        followed_up(case, worker, 6, stable_housing="yes" if n < 5 else "no")
    for case in cases[:3]:
        followed_up(case, worker, 12)
    own = statistics(coordinator, _period()).follow_ups
    assert own.columns == (
        "Stabilt boende",
        "Arbete eller studier",
        "Känd ny brottslighet",
        "Missbruk",
        "Fortfarande i kontakt med verksamheten",
        "Uppföljningar",
    )
    # 5 of 7 is 71 %; "vet inte" is not yes; nothing recorded at 24 months has no share.
    assert _cells(own) == {
        "6 månader efter avslut": (71, 0, 0, 0, 100, 7),
        "12 månader efter avslut": (100, 0, 0, 0, 100, 3),
        "24 månader efter avslut": (None, None, None, None, None, 0),
    }
    shown = _cells(statistics(national, _period()).follow_ups)
    # 2 did not answer yes on housing: that share would give them away; 3 follow-ups at
    # 12 months are too few to show at all.
    assert shown["6 månader efter avslut"] == (None, 0, 0, 0, 100, 7)
    assert shown["12 månader efter avslut"] == (None,) * 6
    assert shown["24 månader efter avslut"][-1] == 0
    # An outcome recorded before the period is not counted in it.
    earlier = Period(_period().start - timedelta(days=365), _period().start - timedelta(days=1))
    assert _cells(statistics(coordinator, earlier).follow_ups)["6 månader efter avslut"][-1] == 0


def test_the_statistics_page_shows_the_outcomes(make_case, worker, national, login) -> None:
    for case in cases_in(make_case, worker, 5):
        followed_up(case, worker, 6)
    page = login(national).get(reverse("followup:statistics")).content.decode()
    assert "Resultat vid uppföljning under perioden" in page
    assert "6 månader efter avslut" in page
    assert "En andel visas bara när både de som svarat ja och de övriga är 0 eller minst 5." in page
