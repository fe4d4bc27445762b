"""The quarterly report: ordered from the statistics page, made as PDF by the job with its
progress stored, the same figures as the page, read by the orderer's scope alone."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from followup import services
from followup.forms import quarter_of
from followup.models import QuarterlyReport, ReportStatus
from tests.followup_support import cases_in, supported

pytestmark = pytest.mark.django_db


def test_a_report_is_ordered_made_and_downloaded(
    make_case, worker, national, coordinator, login, doc_root, django_capture_on_commit_callbacks
) -> None:
    for case in cases_in(make_case, worker, 6, opened_days_ago=5):
        supported(case, worker, housing_in=1)
    year, quarter = quarter_of(timezone.localdate())
    client = login(national)
    with django_capture_on_commit_callbacks() as callbacks:
        ordered = client.post(reverse("followup:report_order"), {"year": year, "quarter": quarter})
    report = QuarterlyReport.objects.get()
    assert ordered["Location"] == report.get_absolute_url() and len(callbacks) == 1
    status = client.get(reverse("followup:report_status", args=[report.pk])).json()
    assert status["pending"] is True and "0 %" in status["label"]
    services.report_render(report_id=report.pk)
    report.refresh_from_db()
    assert (report.status, report.progress) == (ReportStatus.READY, 100)
    response = client.get(reverse("followup:report_download", args=[report.pk]))
    pdf = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Kvartalsrapport" in text and "Aktiva ärenden" in text
    assert "Resultat vid uppföljning under perioden" in text
    assert "6 månader efter avslut" in text
    assert "Södertälje kommun" in text
    # A municipality's coordinator does not read the national coordination's report.
    assert login(coordinator).get(report.get_absolute_url()).status_code == 404


def test_a_quarter_that_has_not_begun_gets_a_clear_message(national, login) -> None:
    year = timezone.localdate().year + 1
    response = login(national).post(reverse("followup:report_order"), {"year": year, "quarter": 1})
    assert response.status_code == 400
    assert "Kvartalet har inte börjat än." in response.content.decode()
    assert not QuarterlyReport.objects.exists()
