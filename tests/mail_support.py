"""A real SMTP server on loopback (aiosmtpd) that receives what the application sends:
invitations and notices go through Django's SMTP backend to it, and tests read the messages
it received. Registered for the whole suite through `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from avhopp.celery import app as celery_app

LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"]).strip()  # as a mail reader shows it, unfolded

    @property
    def body(self) -> str:
        return self.message.get_content()

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.body)

    @property
    def text(self) -> str:
        """Everything a reader of the mail sees: the headers and the body."""
        headers = "\n".join(f"{name}: {value}" for name, value in self.message.items())
        return f"{headers}\n\n{self.body}"


class Inbox:
    """The handler aiosmtpd calls for each message (its DATA command)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self._messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[Received]:
        return [message for message in self.messages if address in message.recipients]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd narrates every command
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def mailbox(
    smtp_server: tuple[Controller, Inbox], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Inbox:
    """The application's mail goes to the loopback server, through Django's SMTP backend, and
    the mail tasks run in-process (eagerly) when their transaction commits."""
    controller, inbox = smtp_server
    inbox.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "avhopp@example.se"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    return inbox


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Callable[..., Any]) -> Callable[..., Any]:
    """`with committed():` runs what the code inside left for after its commit (the mail
    jobs), as a real commit would; a test's own transaction never commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
