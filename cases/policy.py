"""What each role may do with a case it can see. The one place such decisions are made.

Which cases a user can see at all is decided by object permissions (cases.selectors);
this module decides what the user's role may do with a visible case, and which parts of it
the user's agency may read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

from avhopp.models import Role
from cases.models import ConsentScope

if TYPE_CHECKING:
    from avhopp.models import User
    from cases.models import Case, CaseShare


class CaseAction(models.TextChoices):
    VIEW = "view"
    EDIT = "edit"
    VIEW_THREAT_DETAILS = "view_threat_details"
    ADD_THREAT_ASSESSMENT = "add_threat_assessment"
    SHARE = "share"
    REFER = "refer"
    REVEAL_IDENTITY = "reveal_identity"
    VIEW_ACCESS_LOG = "view_access_log"


CONTENT_ROLES = frozenset({Role.SOCIAL_WORKER, Role.COORDINATOR, Role.POLICE_OFFICER})
WRITER_ROLES = frozenset({Role.SOCIAL_WORKER, Role.COORDINATOR})


def role_reads_case_content(user: User) -> bool:
    return user.role in CONTENT_ROLES


@dataclass(frozen=True)
class CaseAccess:
    """A visible case together with the facts the policy needs about the viewer."""

    case: Case
    user: User
    share: CaseShare | None  # the active share to the viewer's agency, if any

    @property
    def is_owner(self) -> bool:
        return self.case.owning_agency_id == self.user.agency_id

    @property
    def is_responsible(self) -> bool:
        return self.case.responsible_id == self.user.pk

    def allows(self, action: CaseAction) -> bool:
        role = self.user.role
        if action == CaseAction.VIEW_ACCESS_LOG:
            return self.is_owner and role in {Role.LOG_REVIEWER, Role.COORDINATOR}
        if role not in CONTENT_ROLES:
            return False
        match action:
            case CaseAction.VIEW:
                return True
            case CaseAction.EDIT:
                return self.is_owner and role in WRITER_ROLES
            case CaseAction.VIEW_THREAT_DETAILS | CaseAction.ADD_THREAT_ASSESSMENT:
                return role == Role.POLICE_OFFICER
            case CaseAction.SHARE | CaseAction.REFER:
                return self.is_owner and role == Role.COORDINATOR
            case CaseAction.REVEAL_IDENTITY:
                return self.is_owner and (self.is_responsible or role == Role.COORDINATOR)
        return False

    def sees(self, scope: ConsentScope) -> bool:
        """Which sections the viewer's agency may read: all for the owner, else the share's."""
        if self.is_owner:
            return True
        if scope == ConsentScope.THREAT_LEVEL and self.user.role == Role.POLICE_OFFICER:
            return True  # police read the assessments they themselves are responsible for
        return self.share is not None and self.share.covers(scope)

    @property
    def needs_outside_assignment_reason(self) -> bool:
        """Owning-agency staff reading a case they are not responsible for must say why."""
        return self.is_owner and not self.is_responsible and self.user.role in WRITER_ROLES
