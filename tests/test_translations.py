"""Swedish is the source language; English must stay complete as strings are added."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "locale"
_ENTRY = re.compile(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', re.M)


def _joined(quoted: str) -> str:
    return "".join(re.findall(r'"(.*)"', quoted))


def test_english_catalogue_is_complete_and_not_fuzzy() -> None:
    text = (LOCALE / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    plural_free = re.sub(r"^msgid_plural.*\n|^msgstr\[1\].*\n", "", text, flags=re.M)
    plural_free = plural_free.replace("msgstr[0]", "msgstr")
    untranslated = [
        _joined(msgid)
        for msgid, msgstr in _ENTRY.findall(plural_free)
        if _joined(msgid) and not _joined(msgstr)
    ]
    assert untranslated == []


@pytest.mark.django_db
def test_pages_switch_to_english(login, worker) -> None:
    client = login(worker)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/arenden/").content.decode()
    assert "Cases" in body
    assert "Ärenden" not in body
    with translation.override("en"):
        assert translation.gettext("Ny hotbedömning") == "New threat assessment"


@pytest.mark.django_db
def test_swedish_whatever_the_browser_asks_for(client) -> None:
    response = client.get("/logga-in/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="sv"' in response.content.decode()
    assert response["Content-Language"] == "sv"
