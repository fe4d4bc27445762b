"""Simulated Avhopp users for `make loadtest` (scripts/loadtest.sh).

Social workers, police officers and coordinators do their usual pages and forms. Each
simulated user signs in once (password, then a one-time code) with an account of its own,
seeded by loadtest/seed.py, and works on the cases the manifest assigns to that account:
its own cases (so no outside-assignment reason is asked), or, for police, cases shared with
the police. Redirects are never followed: every answer is checked for the status code and
location the page should give, so a sign-in page or an error page counts as a failure.

Environment: LOADTEST_MANIFEST (written by seed.py); LOADTEST_SUMMARY, where the figures of
the whole run are written as JSON when locust quits.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.stats import StatsEntry

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accounts import ACCOUNTS, PASSWORD, totp_code, totp_key, username

MANIFEST: dict[str, Any] = json.loads(
    Path(os.environ.get("LOADTEST_MANIFEST", "loadtest-manifest.json")).read_text("utf-8")
)
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
_numbers = {role: itertools.count(1) for role in ACCOUNTS}
SIGN_IN = {"login", "second factor"}
SIGNED_OUT = re.compile(r"/(logga-in|tvafaktor)/")
_environment: list[Environment] = []


@events.init.add_listener
def _remember_environment(environment: Environment, **_kwargs: Any) -> None:
    _environment.append(environment)


def _figures(entry: StatsEntry, seconds: float) -> dict[str, Any]:
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": entry.num_requests / seconds if seconds else 0.0,
        "p50": entry.get_response_time_percentile(0.5),
        "p95": entry.get_response_time_percentile(0.95),
        "p99": entry.get_response_time_percentile(0.99),
        "max": round(entry.max_response_time),
    }


@events.quit.add_listener
def _write_summary(exit_code: int, **_kwargs: Any) -> None:
    """The whole run's figures (locust's CSV files miss the last seconds of a run)."""
    target = os.environ.get("LOADTEST_SUMMARY")
    if not target or not _environment:
        return
    stats = _environment[0].stats
    total = stats.total
    seconds = (total.last_request_timestamp or 0) - (total.start_time or 0)
    pages = StatsEntry(stats, "pages and forms", "")
    rows = []
    for entry in sorted(stats.entries.values(), key=lambda e: (e.name, e.method or "")):
        rows.append({"method": entry.method, "name": entry.name, **_figures(entry, seconds)})
        if entry.name not in SIGN_IN:
            pages.extend(entry)
    summary = {
        "seconds": seconds,
        "total": _figures(total, seconds),
        "without_sign_in": _figures(pages, seconds),
        "rows": rows,
        "errors": [
            {"method": e.method, "name": e.name, "error": str(e.error), "count": e.occurrences}
            for e in stats.errors.values()
        ],
        "exit_code": exit_code,
    }
    Path(target).write_text(json.dumps(summary, indent=1), encoding="utf-8")


def _problem(response: Any, expected: str) -> str:
    if not response.status_code:  # no answer at all: connection refused, reset, timeout
        return f"no answer: {response.error!r}"
    location = response.headers.get("Location", "") if response.headers else ""
    return f"{response.status_code} {location}, expected {expected}"


Work = Callable[["AvhoppUser"], None]


def work(weight: int) -> Callable[[Work], Work]:
    """A task. A user whose session was lost signs in again first, as a person would."""

    def decorate(function: Work) -> Work:
        @functools.wraps(function)
        def run(user: AvhoppUser) -> None:
            if user.verified or user.sign_in():
                function(user)

        return task(weight)(run)

    return decorate


class AvhoppUser(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 3)
    # One connection per simulated user (the pages load no other resources from the app here).
    concurrency = 1

    def on_start(self) -> None:
        number = next(_numbers[self.role])
        if number > ACCOUNTS[self.role]:
            raise RuntimeError(f"more {self.role} users than seeded accounts")
        self.username = username(self.role, number)
        self.cases: list[int] = MANIFEST["cases"][self.username]
        self.verified = False
        self.code_step = -1
        self.sign_in()

    # --- helpers ----------------------------------------------------------------------

    def page(self, path: str, name: str | None = None) -> str:
        """GET a page that must answer 200 with HTML."""
        with self.client.get(
            path, name=name or path, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(_problem(response, "200"))
                if SIGNED_OUT.match(response.headers.get("Location", "") or ""):
                    self.verified = False
                return ""
            return response.text or ""

    def submit(
        self, path: str, fields: dict[str, Any], html: str, *, name: str, redirect_to: str
    ) -> str:
        """POST a form (with the CSRF token of the page it was on) that must redirect."""
        token = CSRF_INPUT.search(html)
        if token is None:
            return ""  # the page that carries the form already failed and was counted
        body = urlencode({**fields, "csrfmiddlewaretoken": token[1]}, doseq=True)
        with self.client.post(
            path,
            data=body,
            headers=FORM_HEADERS,
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "") if response.headers else ""
            if response.status_code != 302 or not re.match(redirect_to, location):
                response.failure(_problem(response, f"302 {redirect_to}"))
                return ""
            return location

    def sign_in(self) -> bool:
        """Password, then a one-time code; True when signed in."""
        html = self.page("/logga-in/", name="login")
        if not self.submit(
            "/logga-in/",
            {"username": self.username, "password": PASSWORD, "next": "/"},
            html,
            name="login",
            redirect_to=r"/(\?|$)",
        ):
            return False
        # A code is accepted once per 30-second step, so a second sign-in within one step
        # waits for the next code, and a code about to roll over is not typed in.
        while int(time.time() // 30) == self.code_step or time.time() % 30 > 28:
            time.sleep(0.5)
        html = self.page("/tvafaktor/", name="second factor")
        self.code_step = int(time.time() // 30)
        self.verified = bool(
            self.submit(
                "/tvafaktor/",
                {"code": totp_code(totp_key(self.username)), "next": "/"},
                html,
                name="second factor",
                redirect_to=r"/$",
            )
        )
        return self.verified

    def own_case(self) -> int:
        return random.choice(self.cases)

    def case_detail(self, pk: int) -> str:
        return self.page(f"/arenden/{pk}/", name="/arenden/[id]/")

    # --- shared pages ----------------------------------------------------------------

    @work(2)
    def start_page(self) -> None:
        self.page("/")

    @work(3)
    def case_list(self) -> None:
        self.page("/arenden/")


class SocialWorker(AvhoppUser):
    role = "social_worker"
    weight = 6

    @work(2)
    def search(self) -> None:
        surname = random.choice(MANIFEST["surnames"])
        self.page(f"/arenden/?{urlencode({'q': surname})}", name="/arenden/?q=[namn]")

    @work(2)
    def filtered_list(self) -> None:
        self.page("/arenden/?status=open&order=name", name="/arenden/?status=open")

    @work(5)
    def read_case(self) -> None:
        self.case_detail(self.own_case())

    @work(1)
    def write_journal(self) -> None:
        pk = self.own_case()
        html = self.case_detail(pk)
        self.submit(
            f"/arenden/{pk}/journal/",
            {"text": f"Uppföljande samtal {date.today():%Y-%m-%d}. Fortsatt motiverad."},
            html,
            name="/arenden/[id]/journal/ (POST)",
            redirect_to=rf"/arenden/{pk}/#journal$",
        )


class PoliceOfficer(AvhoppUser):
    role = "police_officer"
    weight = 2

    def on_start(self) -> None:
        super().on_start()
        self.cases = MANIFEST["shared_with_police"]

    @work(5)
    def read_shared_case(self) -> None:
        self.case_detail(self.own_case())

    @work(1)
    def record_threat_assessment(self) -> None:
        if random.random() > 0.3:
            return  # occasionally: most visits only read
        pk = self.own_case()
        path = f"/arenden/{pk}/hotbedomning/ny/"
        html = self.page(path, name="/arenden/[id]/hotbedomning/ny/")
        self.submit(
            path,
            {
                "level": random.choice(["low", "elevated", "high"]),
                "summary": "Hotbilden bedömd efter nya uppgifter (lasttest).",
                "details": "Underrättelseuppgifter, endast polis.",
                "relocation": "on",
                "other_measures": "",
                "next_review_date": f"{date.today() + timedelta(days=90):%Y-%m-%d}",
            },
            html,
            name="/arenden/[id]/hotbedomning/ny/ (POST)",
            redirect_to=rf"/arenden/{pk}/$",
        )


class Coordinator(AvhoppUser):
    role = "coordinator"
    weight = 2

    @work(4)
    def referral_dashboard(self) -> None:
        self.page("/remisser/")

    @work(3)
    def read_case(self) -> None:
        self.case_detail(self.own_case())

    @work(1)
    def create_referral(self) -> None:
        if random.random() > 0.3:
            return  # occasionally: each one is a PDF for the worker to render
        pk = self.own_case()
        path = f"/remisser/arende/{pk}/ny/"
        html = self.page(path, name="/remisser/arende/[id]/ny/")
        location = self.submit(
            path,
            {
                "to_agency": MANIFEST["police_agency"],
                "external_recipient": "",
                "intervention_kind": "protection",
                "reason": "Behöver skydd efter avhopp.",
                "summary": "Personen har lämnat nätverket (lasttest).",
                "requested_start": "",
                "contact_person": "Karin Kontakt",
                "consent": "",
                # Without a consent a referral rests on a legal basis with a citation.
                "legal_basis": "osl_10_2",
                "legal_basis_citation": "OSL 10 kap. 2 §, beslut i ärendet (lasttest)",
            },
            html,
            name="/remisser/arende/[id]/ny/ (POST)",
            redirect_to=r"/remisser/\d+/$",
        )
        if location:
            self.page(location, name="/remisser/[id]/")
