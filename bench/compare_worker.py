"""One checkout's side of `make bench-compare`: times pages on request, over a pipe.

Started by `bench/compare.py` as `python <this file>` with the checkout as the working directory
and DATABASE_URL its own copy of the dataset. It puts the checkout, not this file's folder, on
sys.path, and imports from it only what every revision has: Django and its test Client, URL
names through `reverse`, and the `User` model (readers come by primary key). The second factor
is marked as passed through django_otp's public API, as `tests/support.py` does.

Requests and answers are JSON lines (stdin, and the standard output it had at start; whatever
else the code prints goes to stderr):

- {"op": "open", "pages": [spec, ...]}: sign the readers in, make each page's posts, request
  each page once; answers {"pages": [null or the error, ...]}.
- {"op": "time", "page": i}: one request of page i; answers {"seconds": s} (or {"error": ...}).
- {"op": "queries", "page": i}: one request of page i; answers {"queries": n}.
- {"op": "quit"}.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

# The session key of a recent re-authentication (avhopp.twofactor.REAUTH_AT), set as a fresh
# sign-in leaves it.
REAUTH_AT = "avhopp_reauth_at"


def main() -> None:
    sys.path[0] = os.getcwd()  # the checkout's code, not the folder of this file
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avhopp.settings")

    import django

    django.setup()
    side = Side()
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            break
        try:
            answer = getattr(side, request["op"])(request)
        except Exception as error:  # told to the coordinator, which stops the comparison
            answer = {"error": f"{type(error).__name__}: {error}"}
        answers.write(json.dumps(answer) + "\n")


class Side:
    def __init__(self) -> None:
        self.pages: list[tuple[Any, str, dict[str, str]]] = []

    def open(self, request: dict[str, Any]) -> dict[str, Any]:
        from django.urls import reverse

        from avhopp.models import User

        clients: dict[int, Any] = {}
        errors: list[str | None] = []
        for spec in request["pages"]:
            try:
                if spec["user"] not in clients:
                    clients[spec["user"]] = signed_in(User.objects.get(pk=spec["user"]))
                client = clients[spec["user"]]
                for name, args, data in spec["posts"]:
                    client.post(reverse(name, args=args), data)
                url = reverse(spec["url"], args=spec["args"])
                self.pages.append((client, url, spec["params"]))
                status = client.get(url, spec["params"]).status_code
                errors.append(None if status == 200 else f"{url} answered {status}")
            except Exception as error:
                self.pages.append((None, "", {}))
                errors.append(f"{type(error).__name__}: {error}")
        return {"pages": errors}

    def time(self, request: dict[str, Any]) -> dict[str, Any]:
        client, url, params = self.pages[request["page"]]
        started = time.perf_counter()
        response = client.get(url, params)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            return {"error": f"{url} answered {response.status_code}"}
        return {"seconds": elapsed}

    def queries(self, request: dict[str, Any]) -> dict[str, Any]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client, url, params = self.pages[request["page"]]
        with CaptureQueriesContext(connection) as captured:
            client.get(url, params)
        return {"queries": len(captured.captured_queries)}


def signed_in(user: Any) -> Any:
    """A test Client signed in as the user, past the second factor."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[REAUTH_AT] = time.time()
    session.save()
    return client


if __name__ == "__main__":
    main()
