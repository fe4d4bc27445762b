"""seed_scale builds consistent data: constraints hold, numbers are valid, shares are visible."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from avhopp.models import (
    Agency,
    AgencyKind,
    AuditAction,
    AuditEvent,
    AuditShownCase,
    Role,
    User,
)
from cases.identity import parse_identity_number
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    CaseStatus,
    Individual,
    Intervention,
    ThreatAssessment,
)
from cases.selectors import cases_visible_to
from devdata.audit_volume import month_windows
from devdata.seeding import INTENSIVE_CASE_EXTRA_NOTES, INTENSIVE_CASE_INTERVENTIONS

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_scale_small(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("seed_scale", cases=200, municipalities=10, audit_per_case=2, reset=True)
    assert "Done in" in capsys.readouterr().out
    assert Agency.objects.filter(kind=AgencyKind.SOCIAL_SERVICES).count() == 10
    assert Agency.objects.filter(kind=AgencyKind.POLICE).count() == 7
    assert Agency.objects.filter(kind=AgencyKind.CIVIL_SOCIETY).count() == 30
    assert Case.objects.count() == Individual.objects.count() == 200
    assert AuditEvent.objects.count() == 400
    assert Intervention.objects.count() > 200
    assert ThreatAssessment.objects.count() > 100
    # The cases with the most interventions also have long journals.
    sized = Case.objects.annotate(
        interventions_n=Count("interventions", distinct=True),
        notes=Count("journal_entries", distinct=True),
    )
    intensive = sized.filter(interventions_n__gte=INTENSIVE_CASE_INTERVENTIONS)
    assert intensive.exists()
    assert not intensive.filter(notes__lt=INTENSIVE_CASE_EXTRA_NOTES[0]).exists()
    assert not sized.exclude(pk__in=intensive.values("pk")).filter(notes__gt=15).exists()
    # Every agency has its own group and every user is in their agency's group only.
    for agency in Agency.objects.select_related("group"):
        assert agency.group.name == f"agency:{agency.name}"
    users = User.objects.annotate(groups_n=Count("groups"))
    assert not users.exclude(groups_n=1).exists()
    assert not User.objects.exclude(groups=F("agency__group")).exists()
    # Identity numbers parse (date and Luhn check digit).
    today = timezone.localdate()
    for number in Individual.objects.exclude(personnummer=None).values_list(
        "personnummer", flat=True
    ):
        assert parse_identity_number(number, today=today) == number
    assert Individual.objects.exclude(protection_level="none").exists()
    # Closed cases carry their reason; the case mirrors its newest threat assessment.
    closed = Case.objects.filter(status__in=[CaseStatus.CLOSED, CaseStatus.DROPPED_OUT])
    assert closed.exists()
    assert not closed.filter(Q(closed_at=None) | Q(close_reason="")).exists()
    for case in Case.objects.exclude(threat_level="")[:50]:
        newest = case.threat_assessments.first()
        assert (newest.level, newest.next_review_date) == (
            case.threat_level,
            case.threat_review_due,
        )
    # Owners hold view + change; active shares hold view.
    for case in Case.objects.all()[:50]:
        grants = CaseGroupObjectPermission.objects.filter(content_object=case)
        owner = grants.filter(group=case.owning_agency.group_id)
        assert set(owner.values_list("permission__codename", flat=True)) == {
            "view_case",
            "change_case",
        }
    for share in CaseShare.objects.filter(revoked_at=None).select_related("agency")[:50]:
        assert CaseGroupObjectPermission.objects.filter(
            content_object=share.case_id, group=share.agency.group_id
        ).exists()
    # Each police region sees shared cases through the real selector.
    for region in Agency.objects.filter(kind=AgencyKind.POLICE):
        officer = User.objects.filter(agency=region, role=Role.POLICE_OFFICER).first()
        assert cases_visible_to(officer).exists(), region.name
    # Re-running with --reset gives the same counts.
    call_command("seed_scale", cases=200, municipalities=10, audit_per_case=2, reset=True)
    assert Case.objects.count() == 200


def test_seed_scale_audit_events_in_sql_spread_over_months_with_shown_cases() -> None:
    call_command(
        "seed_scale", cases=60, municipalities=3, audit_events=3000, reset=True, verbosity=0
    )
    events = AuditEvent.objects.all()
    assert events.count() == 3000
    # Over 24 months, each in a partition of its own: nothing in the DEFAULT partition.
    months = {(e.year, e.month) for e in events.dates("occurred_at", "month")}
    assert 24 <= len(months) <= 25
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM avhopp_auditevent_default")
        assert cursor.fetchone()[0] == 0
        # The indexes dropped for the load are whole again, on every partition.
        cursor.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
            " WHERE NOT i.indisvalid AND t.relname LIKE 'avhopp_audit%%'"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = %s",
            [f"avhopp_auditevent_y{events.first().occurred_at:%Y}m{events.first().occurred_at:%m}"],
        )
        assert cursor.fetchone()[0] == 6  # the key, the time, case, user, person, user name
    # The seeded users and cases; a case view names the case's person.
    users = dict(User.objects.values_list("pk", "username"))
    assert all(users[pk] == name for pk, name in events.values_list("user_id", "username")[:500])
    views = events.filter(action=AuditAction.CASE_VIEW)
    assert views.exists()
    assert not views.exclude(individual_id__in=Case.objects.values("individual_id")).exists()
    # A fraction of the list pages name the cases they showed, cases of the lister's agency.
    shown = AuditShownCase.objects.select_related("event")
    assert shown.exists()
    for row in shown[:100]:
        assert row.event.action in (AuditAction.CASE_LIST, AuditAction.CASE_SEARCH)
        assert row.event_occurred_at == row.event.occurred_at
        assert Case.objects.get(pk=row.case_id).owning_agency_id == row.event.agency_id
    # The log stays append-only.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        events.filter(pk=events.first().pk).update(reason="x")


def test_month_windows_cover_the_period_and_the_total() -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    windows = month_windows(now, 1_000_003)
    assert sum(count for _lower, _upper, count in windows) == 1_000_003
    assert windows[-1][1] == now
    assert all(a[1] == b[0] for a, b in pairwise(windows))
    assert len(windows) == 25  # a partial first month, 23 whole ones, this month so far
