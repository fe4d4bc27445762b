"""The case team: who may change it, who may join it, what it spares its members (the
outside-assignment reason) and what it never does (open a case to anyone)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from cases import services
from cases.models import Case, CaseShare, CaseTeamMember
from cases.policy import CaseAction, CasePolicy
from retention.services import case_file_delete
from tests.access_support import World, give_outside_reason, stranger, stranger_actors


def _team_add_url(case: Case) -> str:
    return reverse("cases:team_add", args=[case.pk])


def _team_events(case: Case, action: AuditAction) -> list[tuple[str, str, str]]:
    return list(
        AuditEvent.objects.filter(case_id=case.pk, action=action)
        .order_by("pk")
        .values_list("username", "object_type", "object_id")
    )


def test_the_responsible_worker_adds_and_removes_a_member_and_each_change_is_logged(
    case: Case, worker: User, colleague: User, login: Callable[[User], Client]
) -> None:
    client = login(worker)
    form = client.get(_team_add_url(case))
    assert form.status_code == 200
    assert str(colleague) in form.content.decode()
    response = client.post(_team_add_url(case), {"user": colleague.pk})
    assert response.status_code == 302
    assert response["Location"] == f"{case.get_absolute_url()}#team"
    membership = CaseTeamMember.objects.get(case=case)
    assert (membership.user, membership.added_by) == (colleague, worker)
    assert _team_events(case, AuditAction.CASE_TEAM_ADD) == [
        ("worker", "avhopp.User", str(colleague.pk))
    ]
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'data-testid="case-team"' in page
    assert page.count('data-testid="team-member"') == 1
    assert reverse("cases:team_remove", args=[case.pk, membership.pk]) in page

    removed = client.post(reverse("cases:team_remove", args=[case.pk, membership.pk]))
    assert removed.status_code == 302
    assert not CaseTeamMember.objects.filter(case=case).exists()
    assert _team_events(case, AuditAction.CASE_TEAM_REMOVE) == [
        ("worker", "avhopp.User", str(colleague.pk))
    ]
    assert 'data-testid="team-member"' not in client.get(case.get_absolute_url()).content.decode()


def test_a_coordinator_manages_the_team_after_giving_a_reason(
    case: Case, coordinator: User, colleague: User, login: Callable[[User], Client]
) -> None:
    client = login(coordinator)
    assert client.post(_team_add_url(case), {"user": colleague.pk}).status_code == 302
    assert not CaseTeamMember.objects.exists()  # sent to the reason page first
    give_outside_reason(client, case)
    assert client.post(_team_add_url(case), {"user": colleague.pk}).status_code == 302
    assert CaseTeamMember.objects.get().user == colleague


def test_a_colleague_an_officer_and_an_outsider_cannot_change_the_team(
    world: World, login: Callable[[User], Client]
) -> None:
    case, users = world.case, world.users
    membership = world.extra["team_member"]
    remove_url = reverse("cases:team_remove", args=[case.pk, membership.pk])
    for actor, status in (("colleague", 403), ("officer", 403), ("outsider", 404)):
        client = login(users[actor])
        add = client.post(_team_add_url(case), {"user": users["colleague"].pk})
        assert add.status_code == status, actor
        assert client.post(remove_url).status_code == status, actor
    assert list(CaseTeamMember.objects.filter(case=case)) == [membership]
    # The services refuse the same, whoever calls them.
    for actor in ("colleague", "officer", "outsider"):
        with pytest.raises(PermissionDenied):
            services.case_team_add(case=case, member=users["colleague"], by=users[actor])
        with pytest.raises(PermissionDenied):
            services.case_team_remove(membership=membership, by=users[actor])
    assert list(CaseTeamMember.objects.filter(case=case)) == [membership]
    assert not AuditEvent.objects.filter(
        action=AuditAction.CASE_TEAM_REMOVE, case_id=case.pk
    ).exists()


def test_someone_who_cannot_read_the_case_is_refused_with_a_clear_message(
    world: World, other_officer: User, login: Callable[[User], Client]
) -> None:
    """Another municipality's worker, a police officer the case is not shared with, the
    owning agency's log reviewer (who reads no case content), and a recipient of a referral
    without a share: none may read the case, so none may join its team."""
    case, users, worker = world.case, world.users, world.users["worker"]
    client = login(worker)
    refused = [users["outsider"], other_officer, users["log_reviewer"], users["recipient"]]
    for member in refused:
        response = client.post(_team_add_url(case), {"user": member.pk})
        assert response.status_code == 400, member
        assert "bara den som redan får läsa ärendet kan vara med" in response.content.decode()
        with pytest.raises(ValidationError, match="får inte läsa ärendet"):
            services.case_team_add(case=case, member=member, by=worker)
    with pytest.raises(ValidationError, match="ansvariga handläggaren"):
        services.case_team_add(case=case, member=worker, by=worker)
    with pytest.raises(ValidationError, match="redan med i ärendets team"):
        services.case_team_add(case=case, member=users["officer"], by=worker)
    # The same user twice is refused on the form as well, and a non-number is no 500.
    assert client.post(_team_add_url(case), {"user": users["officer"].pk}).status_code == 400
    assert client.post(_team_add_url(case), {"user": "x' OR 1=1"}).status_code == 400
    assert client.post(_team_add_url(case), {}).status_code == 200  # the form again
    assert CaseTeamMember.objects.filter(case=case).count() == 1
    assert _team_events(case, AuditAction.CASE_TEAM_ADD) == [
        ("worker", "avhopp.User", str(users["officer"].pk))
    ]


def test_the_database_keeps_one_membership_per_user_and_case(
    case: Case, worker: User, colleague: User
) -> None:
    CaseTeamMember.objects.create(case=case, user=colleague, added_by=worker)
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseTeamMember.objects.create(case=case, user=colleague, added_by=worker)


def test_team_members_skip_the_reason_and_their_reads_are_still_logged(
    case: Case,
    worker: User,
    colleague: User,
    make_user: Callable[..., User],
    login: Callable[[User], Client],
) -> None:
    other = make_user(worker.agency, Role.SOCIAL_WORKER, username="colleague2")
    member, outside = login(colleague), login(other)
    reason_url = reverse("cases:outside_reason", args=[case.pk])
    assert member.get(case.get_absolute_url())["Location"].startswith(reason_url)

    services.case_team_add(case=case, member=colleague, by=worker)
    for url in (case.get_absolute_url(), reverse("cases:edit", args=[case.pk])):
        assert member.get(url).status_code == 200, url
    reads = AuditEvent.objects.filter(case_id=case.pk, username="colleague")
    assert reads.filter(action=AuditAction.CASE_VIEW).count() == 2
    assert not reads.filter(action=AuditAction.OUTSIDE_ASSIGNMENT_READ).exists()
    # Everyone else of the agency is still asked.
    assert outside.get(case.get_absolute_url())["Location"].startswith(reason_url)

    services.case_team_remove(membership=CaseTeamMember.objects.get(case=case), by=worker)
    assert member.get(case.get_absolute_url())["Location"].startswith(reason_url)


def test_the_case_page_shows_the_team_to_its_readers_and_its_buttons_to_managers(
    world: World, login: Callable[[User], Client]
) -> None:
    officer = world.users["officer"]
    for actor, manages in (("worker", True), ("coordinator", True), ("officer", False)):
        client = login(world.users[actor])
        if actor == "coordinator":
            give_outside_reason(client, world.case)
        page = client.get(world.case.get_absolute_url()).content.decode()
        assert 'data-testid="case-team"' in page, actor
        assert str(officer) in page, actor
        assert (_team_add_url(world.case) in page) == manages, actor
        assert ("/team/" in page.replace(_team_add_url(world.case), "")) == manages, actor


def test_membership_never_widens_access_and_leaves_with_the_share(
    world: World,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    case, officer = world.case, world.users["officer"]
    client = login(officer)
    assert client.get(case.get_absolute_url()).status_code == 200
    services.case_unshare(share=world.share, by=world.users["coordinator"])
    assert client.get(case.get_absolute_url()).status_code == 404
    assert not CaseTeamMember.objects.filter(case=case).exists()
    left = AuditEvent.objects.get(action=AuditAction.CASE_TEAM_REMOVE, case_id=case.pk)
    assert (left.object_id, left.reason) == (str(officer.pk), "unshared")
    assert not CasePolicy.team_candidates(case).filter(pk=officer.pk).exists()
    # Shared again, the officer may join again, but is not silently back in the team.
    share_with(case, police_agency)
    assert CasePolicy.team_candidates(case).filter(pk=officer.pk).exists()
    assert not CaseTeamMember.objects.filter(case=case).exists()


def test_a_share_whose_consent_ran_out_ends_candidacy(world: World) -> None:
    officer = world.users["officer"]
    assert CasePolicy.team_candidates(world.case).filter(pk=officer.pk).exists()
    CaseShare.objects.filter(pk=world.share.pk).update(
        expires_on=timezone.localdate() - timedelta(days=1)
    )
    assert not CasePolicy.team_candidates(world.case).filter(pk=officer.pk).exists()


def test_candidates_are_exactly_those_who_may_read_the_case(world: World) -> None:
    """The team's candidates, as one query, agree with the policy's own answer for each user:
    the case visible to them and VIEW allowed (every role in every kind of agency)."""
    users = [*world.users.values(), *(stranger(actor) for actor in stranger_actors())]
    inactive = world.users["colleague"]
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    candidates = set(CasePolicy.team_candidates(world.case).values_list("pk", flat=True))
    disagreements = []
    for user in users:
        user.refresh_from_db()
        reads = (
            user.is_active
            and CasePolicy.visible_to(user).filter(pk=world.case.pk).exists()
            and CasePolicy.allows(user, CaseAction.VIEW, world.case)
        )
        if reads != (user.pk in candidates):
            disagreements.append(f"{user.username}: reads={reads}")
    assert not disagreements, disagreements
    assert candidates  # the world's readers are there


def test_a_transfer_empties_the_team(
    case: Case,
    worker: User,
    colleague: User,
    other_municipality: Agency,
    outsider: User,
) -> None:
    services.case_team_add(case=case, member=colleague, by=worker)
    with transaction.atomic():
        services.case_transfer(
            case=case, to_agency=other_municipality, responsible=outsider, by=outsider
        )
    assert not CaseTeamMember.objects.filter(case=case).exists()
    left = AuditEvent.objects.get(action=AuditAction.CASE_TEAM_REMOVE, case_id=case.pk)
    assert (left.object_id, left.reason) == (str(colleague.pk), "case_transferred")


def test_gallring_deletes_the_team_with_the_case(case: Case, worker: User, colleague: User) -> None:
    services.case_team_add(case=case, member=colleague, by=worker)
    case_file_delete(case_id=case.pk, individual_id=case.individual_id)
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not CaseTeamMember.objects.exists()
    assert User.objects.filter(pk=colleague.pk).exists()
