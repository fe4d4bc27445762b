"""`get_FOO_display()` through avhopp.models.ChoiceLabels: the same labels as Django's."""

from __future__ import annotations

from django.utils import translation

from avhopp.models import Role, User
from cases.models import Intervention, InterventionKind, InterventionStatus


def test_labels_follow_the_active_language() -> None:
    item = Intervention(kind=InterventionKind.EMERGENCY_HOUSING, status=InterventionStatus.ONGOING)
    with translation.override("sv"):
        swedish = (item.get_kind_display(), item.get_status_display())
    with translation.override("en"):
        english = (item.get_kind_display(), item.get_status_display())
    assert swedish == ("Akut boende", "Pågående")
    assert english == ("Emergency housing", "Ongoing")
    assert all(type(label) is str for label in swedish + english)


def test_every_choice_gives_its_own_label() -> None:
    with translation.override("sv"):
        for value, label in Role.choices:
            assert User(role=value).get_role_display() == str(label)


def test_a_value_outside_the_choices_is_shown_as_it_is() -> None:
    assert Intervention(kind="retired_kind").get_kind_display() == "retired_kind"
    assert Intervention(kind=None).get_kind_display() is None
