"""The case page's sections: what it shows, in which order, and the in-page links to them.

The page is read from the top by people with different errands: a police officer comes for
the threat, a social worker for the case and its journal. Each section is a plain element
with an id and the links are plain in-page links, so the page works without JavaScript and
prints whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.models import Consent
from cases.parts import INTERVENTIONS, JOURNAL, THREAT_ASSESSMENTS, CasePart
from cases.policy import CaseAccess, CaseAction


@dataclass(frozen=True)
class Section:
    anchor: str  # the id of the section's element, "" for one without a link
    title: str | Promise
    template: str
    panel: dict[str, Any] | None = None  # another app's panel (avhopp.panels)


OVERVIEW = Section("overview", _("Översikt"), "cases/detail/overview.html")
_PART_SECTIONS = {
    INTERVENTIONS.name: Section("interventions", _("Insatser"), "cases/detail/interventions.html"),
    THREAT_ASSESSMENTS.name: Section("threat", _("Hot"), "cases/detail/threat.html"),
    JOURNAL.name: Section("journal", _("Journal"), "cases/detail/journal.html"),
}
SHARING = Section("sharing", _("Samtycken och delning"), "cases/detail/sharing.html")


def case_sections(
    access: CaseAccess, shown: list[CasePart], panels: list[dict[str, Any]]
) -> list[Section]:
    """The sections the reader may see, in page order: the overview first, except for those
    who read the threat details (the police), who come for the threat and get it first."""
    parts = [_PART_SECTIONS[part.name] for part in shown if part.name in _PART_SECTIONS]
    sections = [OVERVIEW, *parts]
    threat = _PART_SECTIONS[THREAT_ASSESSMENTS.name]
    if threat in sections and access.allows(CaseAction.VIEW_THREAT_DETAILS):
        sections.remove(threat)
        sections.insert(0, threat)
    if access.allows(CaseAction.READ_OWNER_DETAILS):
        sections.append(SHARING)
    for panel in panels:
        link = panel["link"]
        anchor, title = (link.anchor, link.title) if link else ("", "")
        sections.append(Section(anchor, title, panel["template"], panel))
    return sections


def consents_in_force(consents: list[Consent]) -> list[Consent]:
    """The consents that allow sharing today (not withdrawn, begun and not run out)."""
    return [consent for consent in consents if consent.is_current()]
