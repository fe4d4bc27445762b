"""Permission-aware reads of extract requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from avhopp.audit import audit_denied
from research.models import ExtractRequest
from research.policy import ExtractAction, ExtractPolicy

if TYPE_CHECKING:
    from avhopp.models import User


def extracts_visible_to(user: User) -> QuerySet[ExtractRequest]:
    return ExtractPolicy.visible_to(user)


def get_extract_for_user(user: User, pk: int, action: ExtractAction) -> ExtractRequest:
    """404 for a request the user may not see, 403 for an action not theirs."""
    extract = (
        extracts_visible_to(user)
        .select_related("requested_by", "research_agency", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if extract is None:
        audit_denied(actor=user, object_type="research.ExtractRequest", object_id=pk, case_id=None)
        raise Http404
    if action != ExtractAction.DOWNLOAD:  # the download view explains an expired link
        ExtractPolicy.check(user, action, extract)
    return extract
