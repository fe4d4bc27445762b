"""Migration referrals/0004 dates the referrals sent before it: by the log's first
"referral_send" event, or, when that month has left the log, by when the document was made."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from avhopp.models import Agency, AuditAction, AuditEvent, User
from cases.models import Case
from referrals.models import Referral, ReferralStatus

BEFORE = ("referrals", "0003_referral_text_limits")
AFTER = ("referrals", "0004_referral_sent_at")


@pytest.fixture
def before_sent_at(transactional_db: None) -> Iterator[MigrationExecutor]:
    """The schema as it was before the migration; migrated forward again whatever happens."""
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    executor.loader.build_graph()
    try:
        yield executor
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_sent_referrals_are_dated_from_the_log(
    before_sent_at: MigrationExecutor,
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    police_agency: Agency,
) -> None:
    case = make_case(worker, responsible=coordinator)
    old = before_sent_at.loader.project_state([BEFORE]).apps.get_model("referrals", "Referral")
    made = timezone.now() - timedelta(days=40)

    def referral(status: str) -> int:
        return old.objects.create(
            case_id=case.pk,
            from_agency_id=case.owning_agency_id,
            to_agency_id=police_agency.pk,
            contact_person="Kontakt",
            legal_basis="necessary_for_duty",
            legal_basis_citation="OSL 10 kap. 2 §",
            created_by_id=coordinator.pk,
            status=status,
            document_path="referrals/x.pdf",
            document_sha256="0" * 64,
            generated_at=made,
        ).pk

    logged, forgotten, ready = referral("sent"), referral("accepted"), referral("ready")
    for _ in range(2):  # the first send counts
        AuditEvent.objects.create(
            action=AuditAction.REFERRAL_SEND,
            object_type="referrals.Referral",
            object_id=str(logged),
            username=coordinator.username,
        )
    first_send = AuditEvent.objects.filter(object_id=str(logged)).earliest("occurred_at")

    MigrationExecutor(connection).migrate([AFTER])

    dated = dict(Referral.objects.values_list("pk", "sent_at"))
    assert dated == {logged: first_send.occurred_at, forgotten: made, ready: None}
    assert Referral.objects.get(pk=forgotten).status == ReferralStatus.ACCEPTED
