"""A real OpenID Connect provider on loopback for the sign-in tests: oidc-provider-mock (a dev
dependency, built on Authlib), started once per test session and stopped at its end.

It signs ID tokens with its own RSA key, published at its JWKS endpoint, checks the nonce,
and authenticates whoever is named in its form: the tests post the subject as a person would
pick themselves there. Its two predefined staff members sign in at different assurance levels.
Loaded as a pytest plugin from conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
from django.test import Client
from django.urls import reverse

from avhopp.models import Agency, IdentityProvider
from avhopp.oidc import STATES
from tests.support import stop_processes

LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
# The provider's staff: one with a SITHS card (level 3), one with a weaker e-ID (level 2).
STAFF = {
    "anna": {"email": "anna.berg@sodertalje.example", "acr": LOA3, "hsa_id": "SE2321000032-a1"},
    "lars": {"email": "lars.ek@sodertalje.example", "acr": LOA2, "hsa_id": "SE2321000032-b2"},
}
PORT = int(os.environ.get("AVHOPP_TEST_OIDC_PORT", "55401"))
SHORT_LIVED_PORT = PORT + 1
SECRET_ENV = "AVHOPP_TEST_OIDC_SECRET"


@dataclass(frozen=True)
class Provider:
    url: str
    discovery: dict[str, Any]


def _start(port: int, *extra: str) -> tuple[subprocess.Popen[bytes], Provider]:
    users = [json.dumps({"sub": sub, **claims}) for sub, claims in STAFF.items()]
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--require-nonce", *extra]
    for user in users:
        command += ["--user-claims", user]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the OpenID provider on port {port} exited ({process.returncode})")
        try:
            discovery = requests.get(f"{url}/.well-known/openid-configuration", timeout=1)
            if discovery.ok:
                return process, Provider(url, discovery.json())
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    stop_processes([process])
    raise RuntimeError(f"the OpenID provider on port {port} did not answer within 30 s")


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[Provider]:
    process, provider = _start(PORT)
    yield provider
    stop_processes([process])


@pytest.fixture(scope="session")
def short_lived_oidc_server() -> Iterator[Provider]:
    """The same provider issuing ID tokens valid for one second."""
    process, provider = _start(SHORT_LIVED_PORT, "--token-max-age", "1")
    yield provider
    stop_processes([process])


@pytest.fixture
def make_provider(
    oidc_server: Provider, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., IdentityProvider]:
    monkeypatch.setenv(SECRET_ENV, "client-secret-from-the-environment")

    def make(agency: Agency, server: Provider = oidc_server, **fields: Any) -> IdentityProvider:
        discovery = server.discovery
        values = {
            "name": "SITHS-kort",
            "issuer": discovery["issuer"],
            "authorization_endpoint": discovery["authorization_endpoint"],
            "token_endpoint": discovery["token_endpoint"],
            "jwks_uri": discovery["jwks_uri"],
            "end_session_endpoint": discovery["end_session_endpoint"],
            "client_id": f"avhopp-{agency.pk}",
            "client_secret_env": SECRET_ENV,
            "accepted_acr": f"{LOA3} http://id.elegnamnden.se/loa/1.0/loa4",
        }
        return IdentityProvider.objects.create(agency=agency, **(values | fields))

    return make


def start_sign_in(client: Client, provider: IdentityProvider, **query: str) -> str:
    """Our sign-in page's link to the provider: the provider's authorization URL."""
    query = {"provider": str(provider.pk), **query}
    response = client.get(f"{reverse('oidc_start')}?{urlencode(query)}")
    assert response.status_code == 302, response.status_code
    return response["Location"]


def authenticate_at_provider(authorization_url: str, sub: str) -> str:
    """The person signs in at the provider, which sends them back: our callback's path."""
    answer = requests.post(authorization_url, data={"sub": sub}, timeout=10, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlparse(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def sso_sign_in(client: Client, provider: IdentityProvider, sub: str, **query: str) -> Any:
    """The whole sign-in; the answer of our callback."""
    return client.get(authenticate_at_provider(start_sign_in(client, provider, **query), sub))


def pending_nonce(client: Client, authorization_url: str) -> tuple[str, str]:
    """The state and nonce our sign-in page put in the session for this authorization URL."""
    state = parse_qs(urlparse(authorization_url).query)["state"][0]
    return state, client.session[STATES][state]["nonce"]


def tokens_from_provider(server: Provider, *, client_id: str, sub: str, nonce: str) -> dict:
    """A real token answer of the provider, for a code flow run outside Avhopp (to hand our
    callback tokens it did not ask for)."""
    redirect_uri = "http://127.0.0.1:9/elsewhere"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid email",
        "state": "outside",
        "nonce": nonce,
    }
    url = f"{server.discovery['authorization_endpoint']}?{urlencode(query)}"
    code = parse_qs(urlparse(authenticate_at_provider(url, sub)).query)["code"][0]
    answer = requests.post(
        server.discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": "any",
        },
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()
