"""`CompiledRead`: SQL compiled once, run with each call's keys, rows as model instances."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from avhopp.compiled import CompiledRead
from avhopp.models import User
from cases.models import Case, JournalEntry
from cases.presentation import JOURNAL_COLUMNS

pytestmark = pytest.mark.django_db


def newest_notes() -> CompiledRead[JournalEntry]:
    return CompiledRead(
        lambda case_id: JournalEntry.objects.filter(case_id=case_id)[:3], JOURNAL_COLUMNS
    )


def write_notes(case: Case, author: User, *texts: str) -> list[JournalEntry]:
    return [JournalEntry.objects.create(case=case, author=author, text=text) for text in texts]


def test_rows_are_the_querysets_with_the_columns_and_related_objects_named(
    case: Case, worker: User
) -> None:
    first, _ = write_notes(case, worker, "Första", "Andra")
    correction = JournalEntry.objects.create(
        case=case, author=worker, text="Rättelse", corrects=first
    )
    expected = list(
        JournalEntry.objects.filter(case_id=case.pk)
        .select_related("author", "corrects")
        .only(*JOURNAL_COLUMNS)[:3]
    )

    with CaptureQueriesContext(connection) as queries:
        read = newest_notes()(case_id=case.pk)
        shown = [
            (e.pk, e.created_at, e.text, str(e.author), e.corrects and e.corrects.created_at)
            for e in read
        ]
    assert len(queries.captured_queries) == 1  # the author and the corrected note came with the row
    assert shown == [
        (e.pk, e.created_at, e.text, str(e.author), e.corrects and e.corrects.created_at)
        for e in expected
    ]
    assert read[0].pk == correction.pk and read[0].corrects == first
    assert read[-1].corrects is None
    assert read[0].created_at.tzinfo is not None
    # Columns not named are not loaded, as with `.only()`.
    assert read[0].author.get_deferred_fields() >= {"password", "email"}


def test_compiled_once_and_each_call_reads_its_own_key(
    case: Case, make_case: Callable[..., Case], worker: User
) -> None:
    other = make_case(worker, first_name="Bo")
    write_notes(case, worker, "Om Anna")
    write_notes(other, worker, "Om Bo")
    read = newest_notes()
    with mock.patch.object(
        SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql
    ) as compiled:
        assert [e.text for e in read(case_id=case.pk)] == ["Om Anna"]
        assert [e.text for e in read(case_id=other.pk)] == ["Om Bo"]
        assert read(case_id=other.pk + case.pk + 1000) == []
    assert compiled.call_count == 1


def test_a_key_the_sql_does_not_take_is_refused() -> None:
    unfiltered = CompiledRead(lambda case_id: JournalEntry.objects.all(), ("text",))
    with pytest.raises(ImproperlyConfigured, match="case_id"):
        unfiltered(case_id=1)
    with pytest.raises(TypeError, match="case_id"):
        newest_notes()(pk=1)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (("author__agency__name",), "one relation deep"),
        (("corrections__text",), "not a foreign key"),
        (("no_such_column",), "no columns"),
    ],
)
def test_columns_are_the_models_or_one_foreign_key_away(
    columns: tuple[str, ...], message: str
) -> None:
    read = CompiledRead(lambda case_id: JournalEntry.objects.filter(case_id=case_id), columns)
    with pytest.raises(ImproperlyConfigured, match=message):
        read(case_id=1)
