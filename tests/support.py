"""Helpers for tests and the benchmark: sign a client in past the second factor."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from avhopp.models import User
from avhopp.twofactor import REAUTH_AT

REPO = Path(__file__).resolve().parent.parent

# A Celery worker for tests: one task at a time, no chatter with other workers.
WORKER_ARGS = [
    "worker",
    "--pool=solo",
    "--concurrency=1",
    "-Q",
    "celery",
    "--without-heartbeat",
    "--without-mingle",
    "--without-gossip",
    "-l",
    "warning",
]

TEST_TOTP_KEY = "3132333435363738393031323334353637383930"


def production_env(**extra: str) -> dict[str, str]:
    """This process's environment with production settings instead of its own, for a
    subprocess that runs manage.py or imports the settings as a deployment would."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "AVHOPP_", "EMAIL_", "DEFAULT_FROM_EMAIL"))
    }
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY="x" * 20 + "production-secret-for-the-deploy-check-only" + "y" * 10,
        DJANGO_ALLOWED_HOSTS="avhopp.example.se",
        AVHOPP_DATA_DIR=str(REPO / "data" / "deploy-check"),
        AVHOPP_REGISTER_KEY="r" * 40,
        EMAIL_HOST="smtp.example.se",
        DEFAULT_FROM_EMAIL="avhopp@example.se",
    )
    if "DATABASE_URL" in env:  # production needs the register's database named as well
        env.setdefault("REGISTER_DATABASE_URL", env["DATABASE_URL"] + "_register")
    env.update(extra)
    return env


def authenticator_of(user: User) -> TOTPDevice:
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "Test", "key": TEST_TOTP_KEY}
    )
    return device


def current_code(user: User) -> str:
    """The code the user's app shows now. Clears replay protection, so tests that log the
    same user in twice within one 30-second step still get a usable code."""
    device = authenticator_of(user)
    # Also lift the throttling that a test's deliberate wrong code switched on.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def verify_second_factor(client: Client, user: User) -> None:
    """After force_login: mark the session as having passed the second factor just now."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator_of(user).persistent_id
    session[REAUTH_AT] = time.time()
    session.save()


def sign_in(page: Any, user: User, password: str) -> Any:
    """Log in through the pages, as a person would: password, then the one-time code."""
    code = current_code(user)  # before the password step, so the user has an authenticator
    page.goto("/logga-in/")
    page.get_by_label("Användarnamn").fill(user.username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_label("Engångskod").fill(code)
    page.get_by_role("button", name="Fortsätt").click()
    page.wait_for_url("**/")
    return page


def stop_processes(processes: Iterable[subprocess.Popen[bytes]], *, timeout: float = 15) -> None:
    """Terminate every still-running process, then kill whatever ignores that."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def assess_threat(case: Any, officer: User, **fields: Any) -> Any:
    """A threat assessment by `officer` on `case`, as the police give one when the owning
    municipality asks: on a case not shared with the officer's agency, its group is granted
    the view for the assessment only (the service refuses police who cannot see the case)."""
    from guardian.shortcuts import assign_perm, remove_perm

    from cases import services
    from cases.policy import CasePolicy

    if CasePolicy.visible_to(officer).filter(pk=case.pk).exists():
        return services.threat_assessment_create(case=case, by=officer, **fields)
    assign_perm("cases.view_case", officer.agency.group, case)
    try:
        return services.threat_assessment_create(case=case, by=officer, **fields)
    finally:
        remove_perm("cases.view_case", officer.agency.group, case)


def send_referral(referral: Any, by: User) -> None:
    """Send a ready referral the way its confirmation step does: with that step's token."""
    from referrals import services

    token = services.send_confirmation_token(referral=referral, by=by)
    services.referral_send(referral=referral, by=by, confirmation=token)


def at_once(*calls: Callable[[], Any], timeout: float = 120) -> list[Any]:
    """Run the calls in threads released together, each on its own database connection (a
    test with `django_db(transaction=True)`); what each returned, or the exception it raised,
    in the calls' order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except BaseException as error:  # handed to the test's thread
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes
