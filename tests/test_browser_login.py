from __future__ import annotations

import pytest

from avhopp.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_user_logs_in_and_sees_start_page(page, browser_login, worker: User) -> None:
    browser_login(worker)
    assert page.get_by_test_id("agency").inner_text() == worker.agency.name
    assert page.get_by_test_id("role").inner_text() == "Handläggare"
    assert worker.get_full_name() in page.get_by_role("heading", level=1).inner_text()
