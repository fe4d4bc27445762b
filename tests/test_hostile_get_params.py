"""Hostile GET parameters and headers: lists, search, the CSV exports, the referral status
JSON (the contract is in tests/hostile_support.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from django.test import Client
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from avhopp.models import User
from referrals.models import ReferralStatus
from tests.hostile_support import (
    FEW,
    HOSTILE,
    SCRIPT,
    Stage,
    body_of,
    counts,
    grown,
    hostile_date,
    hostile_text,
    huge_ints,
    isolated,
    submit,
)

# --- GET parameters: lists, search, export, JSON ---------------------------------------------

query_params = st.dictionaries(
    st.sampled_from(
        [
            "q",
            "status",
            "threat_level",
            "intervention_kind",
            "overdue",
            "order",
            "direction",
            "agency",
            "page",
            "case",
            "person",
            "username",
            "action",
            "date_from",
            "date_to",
            "next",
            SCRIPT,
        ]
    ),
    st.one_of(hostile_text, huge_ints.map(str), hostile_date),
    max_size=8,
)


@FEW
@given(params=query_params)
@isolated
def test_list_and_search_pages(
    params: dict[str, str], stage: Stage, login: Callable[[User], Client]
) -> None:
    pages = [
        ("worker", reverse("home")),
        ("worker", reverse("cases:list")),
        ("worker", reverse("cases:create")),
        ("coordinator", reverse("referrals:dashboard")),
        ("log_reviewer", reverse("audit:search")),
        ("log_reviewer", reverse("audit:summary")),
        ("log_reviewer", reverse("audit:sample")),
        ("agency_admin", reverse("users:list")),
        ("coordinator", reverse("audit:case_readers", args=[stage.coordinated.pk])),
        ("worker", reverse("cases:detail", args=[stage.case.pk])),
    ]
    clients = {actor: login(stage.users[actor]) for actor, _url in pages}
    before = counts()
    for actor, url in pages:
        response = submit(clients[actor], "get", url, params)
        assert response.status_code in {200, 400}, (url, response.status_code)
    assert grown(before, counts()) == {}


@HOSTILE
@given(
    params=query_params,
    request_id=st.sampled_from(
        ["", "abc-123", "=cmd|' /C calc'!A0", "+SUM(1,1)", "-2+3", "@SUM(1,1)", "=1+1"]
    ),
)
@isolated
def test_csv_export(
    params: dict[str, str], request_id: str, stage: Stage, login: Callable[[User], Client]
) -> None:
    """Values people typed reach the export (search terms, reasons, request ids): every cell
    that a spreadsheet would read as a formula is neutralised."""
    client = login(stage.users["log_reviewer"])
    search = submit(client, "get", reverse("audit:search"), params, HTTP_X_REQUEST_ID=request_id)
    response = submit(client, "get", reverse("audit:export"), params)
    # A search the form refuses is refused by the export too, in plain words and before
    # anything streams; any other gives the CSV.
    assert response.status_code == search.status_code
    if response.status_code == 400:
        assert response["Content-Type"].startswith("text/plain")
        assert "Content-Disposition" not in response
        return
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body_of(response))))
    assert rows[0][0] == "Tid (svensk tid)"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


@FEW
@given(params=query_params)
@isolated
def test_case_list_export(
    params: dict[str, str], stage: Stage, login: Callable[[User], Client]
) -> None:
    """The case list's export takes the list's filters: one the list's form refuses sends the
    reader back to the list with a message (never a file of every case), any other gives the
    file, whose every cell is safe in a spreadsheet."""
    client = login(stage.users["worker"])
    for name in ("cases:export_csv", "cases:export_xlsx"):
        response = submit(client, "get", reverse(name), params)
        assert response.status_code in {200, 302}, (name, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("cases:list"))
            assert "Content-Disposition" not in response
            continue
        if name == "cases:export_xlsx":
            assert response["Content-Type"].startswith("application/vnd.openxmlformats")
            continue
        rows = list(csv.reader(io.StringIO(body_of(response).removeprefix("\ufeff"))))
        assert rows[0][0] == "Ärende"
        for row in rows[1:]:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


@HOSTILE
@given(params=query_params)
@isolated
def test_referral_status_json(
    params: dict[str, str], stage: Stage, login: Callable[[User], Client]
) -> None:
    client = login(stage.users["coordinator"])
    response = submit(client, "get", reverse("referrals:status", args=[stage.referral.pk]), params)
    assert response.status_code == 200
    assert json.loads(response.content)["status"] == ReferralStatus.READY
    missing = submit(client, "get", reverse("referrals:status", args=[2**63]), params)
    assert missing.status_code == 404


@FEW
@given(request_id=hostile_text, agent=hostile_text)
@example(request_id="a\x00b", agent="Mozilla/5.0")  # BUG-4: NUL in the audit log, 500
@example(request_id="a\rb", agent="Mozilla/5.0")  # BUG-4: CR in a response header, 500
@example(request_id="", agent="a\x00b")  # BUG-4: NUL in axes' lockout record, 500
@isolated
def test_hostile_headers(
    request_id: str, agent: str, stage: Stage, login: Callable[[User], Client]
) -> None:
    """Headers are input too: the request id is written to the audit log, the user agent to
    the lockout records of failed logins."""
    client = login(stage.users["worker"])
    headers = {"HTTP_X_REQUEST_ID": request_id, "HTTP_USER_AGENT": agent}
    for url in (reverse("cases:list"), reverse("cases:detail", args=[stage.case.pk])):
        response = submit(client, "get", url, **headers)
        assert response.status_code in {200, 400}  # served, or refused as malformed
    failed = {"username": "worker", "password": "fel-lösenord"}
    response = submit(Client(), "post", reverse("login"), failed, HTTP_USER_AGENT=agent)
    assert response.status_code in {200, 400, 403, 429}
