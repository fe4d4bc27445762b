"""The national register: built from the municipal data into its own database, pseudonymised
and minimal, idempotent and incremental, the same pseudonym for the same person."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import IntegrityError, connections, models, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from avhopp.models import AuditAction, AuditEvent, Role
from cases import services
from cases.models import Case, CaseStatus, Individual, ReferralSource
from devdata.factories import advance
from method.models import FollowUpOutcome
from method.national import ensure_national_default
from register import services as register_services
from register.models import RegisterRecord
from register.pseudonyms import case_key
from register.routers import RegisterRouter
from register.selectors import register_overview
from register.services import quarter, register_build
from tests.followup_support import ANSWERS, cases_in, followed_up, supported
from tests.method_support import method_work
from tests.support import assess_threat

pytestmark = pytest.mark.django_db(databases=["default", "register"])

MUNICIPAL_APPS = ("cases", "relocations", "referrals", "method")


def _dump_register() -> str:
    """Every value of every table of the register database, as text."""
    connection = connections["register"]
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            parts += [repr(row) for row in cursor.fetchall()]
    return "\n".join(parts)


def _mark_every_text_field() -> list[str]:
    """A marker in every free text and name of the municipal data, by direct update; fields
    whose constraints refuse a marker (codes, numbers) are left as they are."""
    markers = []
    for app in MUNICIPAL_APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.concrete_fields:
                if not isinstance(field, models.CharField | models.TextField) or field.choices:
                    continue
                if field.max_length is not None and field.max_length < 12:
                    continue
                marker = f"ZQ{len(markers):04d}QZ"
                try:
                    with transaction.atomic():
                        touched = model.objects.update(**{field.name: marker})
                except IntegrityError:
                    continue
                if touched:
                    markers.append(marker)
    return markers


@pytest.fixture
def municipal_data(make_case, worker, coordinator, officer, share_with, police_agency):
    cases = cases_in(make_case, worker, 3, opened_days_ago=100)
    for case in cases:
        supported(case, worker)
    share_with(cases[0], police_agency)
    assess_threat(
        cases[0],
        officer,
        level="high",
        summary="Sammanfattning",
        details="Hotaktören heter Hemlig Person",
        next_review_date=timezone.localdate() + timedelta(days=30),
    )
    services.journal_entry_create(case=cases[0], by=worker, text="En anteckning.")
    method_work(cases[0], worker)
    followed_up(cases[2], worker, 6)
    return cases


def test_the_register_holds_no_identity_number_name_address_or_free_text(
    municipal_data,
) -> None:
    markers = _mark_every_text_field()
    assert len(markers) > 15  # names, addresses, notes, goals, summaries, details, ...
    numbers = list(Individual.objects.values_list("personnummer", flat=True))
    register_build()
    dump = _dump_register()
    assert RegisterRecord.objects.count() == 3
    leaked = [text for text in [*markers, *numbers] if text and text in dump]
    assert leaked == []
    assert "Hemlig" not in dump and "Storgatan" not in dump


def test_a_second_build_changes_nothing_and_an_edit_changes_one_record(
    municipal_data, worker
) -> None:
    first = register_build()
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    before = {r.case_key: (r.pk, r.digest) for r in RegisterRecord.objects.all()}
    again = register_build()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert {r.case_key: (r.pk, r.digest) for r in RegisterRecord.objects.all()} == before
    advance(municipal_data[1], worker, CaseStatus.FOLLOW_UP)
    edited = register_build()
    assert (edited.created, edited.updated, edited.unchanged) == (0, 1, 2)
    changed = [r for r in RegisterRecord.objects.all() if before[r.case_key][1] != r.digest]
    assert len(changed) == 1 and changed[0].status == CaseStatus.FOLLOW_UP
    assert AuditEvent.objects.filter(action=AuditAction.REGISTER_BUILD).count() == 3


def test_a_record_carries_its_follow_ups_as_codes_and_a_new_one_updates_it(
    municipal_data, worker
) -> None:
    register_build()
    case = municipal_data[2]
    record = RegisterRecord.objects.get(case_key=case_key(case.pk))
    recorded = quarter(FollowUpOutcome.objects.get(case=case).recorded_at)
    assert record.follow_ups == [{"months": 6, "anchor": "closed", "quarter": recorded, **ANSWERS}]
    others = RegisterRecord.objects.exclude(pk=record.pk)
    assert [r.follow_ups for r in others] == [[], []]
    before = record.digest
    followed_up(case, worker, 12, stable_housing="no")
    again = register_build()
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    record.refresh_from_db()
    assert record.digest != before
    assert [(f["months"], f["stable_housing"]) for f in record.follow_ups] == [
        (6, "yes"),
        (12, "no"),
    ]
    # Codes and quarters only: no date, no free text, nothing of who recorded it.
    for follow_up in record.follow_ups:
        assert set(follow_up) == {"months", "anchor", "quarter", *ANSWERS}
        assert re.fullmatch(r"\d{4}Q[1-4]", follow_up["quarter"])


def test_a_batch_costs_the_same_queries_whatever_its_cases_hold(
    municipal_data, worker, monkeypatch
) -> None:
    def queries() -> tuple[int, int]:
        with (
            CaptureQueriesContext(connections["default"]) as municipal,
            CaptureQueriesContext(connections["register"]) as register,
        ):
            register_build()
        return len(municipal), len(register)

    register_build()
    monkeypatch.setattr(register_services, "BATCH", 1)
    thin = queries()  # three batches of one case, then the empty one that ends the run
    followed_up(municipal_data[0], worker, 6, 12, 24)
    followed_up(municipal_data[1], worker, 6, 12)
    services.intervention_create(
        case=municipal_data[0], by=worker, kind="work", provider_name="AF", goal="Arbete"
    )
    register_build()  # writes what changed
    assert queries() == thin
    monkeypatch.setattr(register_services, "BATCH", 3)
    one = queries()
    # Per batch: the cases, their interventions, status changes, outcomes and relocations;
    # on the register's side a savepoint around the batch's (here no) writes.
    assert (thin[0] - one[0], thin[1] - one[1]) == (2 * 5, 2 * 2)


def test_a_record_holds_quarters_region_and_codes(municipal_data) -> None:
    register_build()
    record = RegisterRecord.objects.order_by("pk").first()
    assert record.region == "Stockholm"
    assert len(record.opened_quarter) == 6 and record.opened_quarter[4] == "Q"
    assert record.age_band in {"0-17", "18-20", "21-24", "25-29", "30-39", "40+"}
    assert {change["status"] for change in record.status_changes} >= {"reported", "interventions"}
    assert record.interventions[0]["kind"] == "emergency_housing"
    assert len(record.pseudonym) == 64 and not record.relocated


def test_the_same_person_in_two_municipalities_has_one_pseudonym(
    municipal_data, other_municipality, make_user, national
) -> None:
    elsewhere = make_user(other_municipality, Role.SOCIAL_WORKER)
    services.case_create(
        by=elsewhere, individual=municipal_data[0].individual, referral_source=ReferralSource.SELF
    )
    register_build()
    assert RegisterRecord.objects.values("pseudonym").distinct().count() == 3
    overview = register_overview(national)
    assert (overview.records, overview.people, overview.repeated) == (4, 3, {2: 1})


def test_a_case_removed_by_gallring_keeps_its_record(municipal_data) -> None:
    register_build()
    Case.objects.filter(pk=municipal_data[2].pk).delete()
    register_build()
    assert RegisterRecord.objects.count() == 3


def test_the_register_database_is_kept_apart(municipal_data) -> None:
    router = RegisterRouter()
    assert router.db_for_write(RegisterRecord) == "register"
    assert router.db_for_read(Case) is None
    register_build()
    record = RegisterRecord.objects.first()
    assert router.allow_relation(record, municipal_data[0]) is False
    assert router.allow_migrate("register", "cases") is False
    assert router.allow_migrate("default", "register") is False
    default_tables = connections["default"].introspection.table_names()
    assert "register_registerrecord" not in default_tables
    assert "cases_case" not in connections["register"].introspection.table_names()
    # `migrate --database register` runs the apps' post_migrate there too: the method's
    # national checklist is made in the municipal database only.
    with CaptureQueriesContext(connections["default"]) as municipal:
        ensure_national_default(using="register")
    assert len(municipal) == 0


def test_the_overview_is_the_national_coordinators_alone(
    municipal_data, national, coordinator, login, django_capture_on_commit_callbacks
) -> None:
    register_build()
    client = login(national)
    page = client.get(reverse("followup:register"))
    assert page.status_code == 200
    assert "Personer med mer än ett ärende" in page.content.decode()
    with django_capture_on_commit_callbacks() as callbacks:
        built = client.post(reverse("followup:register_build"))
    assert built.status_code == 302 and len(callbacks) == 1
    assert login(coordinator).get(reverse("followup:register")).status_code == 403
    assert login(coordinator).post(reverse("followup:register_build")).status_code == 403


def test_the_register_is_built_every_night(settings) -> None:
    from register.tasks import build

    entry = settings.CELERY_BEAT_SCHEDULE["build-register"]
    assert entry["task"] == build.name
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {30})
