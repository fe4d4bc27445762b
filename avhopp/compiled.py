"""Small reads whose SQL is compiled once per process: the case page's previews and lists.

Django compiles a queryset to SQL each time it runs one. For the case page's small reads (the
newest ten notes, a person's consents) that took 0.6-1.2 ms each, longer than PostgreSQL took
to answer, and seven of them a sixth of the owner's page (bench/run.py, N = 100,000). The SQL
of such a read depends only on its shape, so a `CompiledRead` compiles it once, with stand-ins
for its keys, and afterwards runs the same SQL with the keys it is given.

Rows come back as model instances holding the columns named, as `.only()` loads them, with
the related objects those columns come from, so models, rows and templates use them as ever.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=models.Model)

# The keys' values while compiling: within 32 bits, so an integer lookup compiles to a
# parameter (Django answers a value out of a column's range without asking the database),
# and below any id.
_STAND_IN = -2_000_000_000


@dataclass(frozen=True)
class _Loaded:
    """Where one model's columns are in a row, in the order `Model.from_db` takes them."""

    model: type[models.Model]
    attnames: tuple[str, ...]
    positions: tuple[int, ...]

    def instance(self, db: str, row: tuple[Any, ...]) -> models.Model:
        return self.model.from_db(db, self.attnames, [row[i] for i in self.positions])


@dataclass(frozen=True)
class _Relation:
    name: str  # the foreign key's name on the model read
    key_position: int  # where its value is in a row
    loaded: _Loaded  # the related object's columns, its key among them


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]  # as compiled, stand-ins included
    # Where each key goes in `params`, as (position, key name).
    key_slots: tuple[tuple[int, str], ...]
    compiler: SQLCompiler  # converts the columns as Django would (dates on SQLite, JSON)
    main: _Loaded
    relations: tuple[_Relation, ...]


class CompiledRead(Generic[M]):
    """`build(**keys)` returns the queryset to read (filtered, ordered, sliced); `columns` are
    the model's fields and its foreign keys' fields (`"author__username"`) to load. Its keys
    are the only values that may change between calls: anything else in the queryset, such
    as today's date, would be compiled in for good."""

    def __init__(self, build: Callable[..., QuerySet[M]], columns: Sequence[str]) -> None:
        self._build = build
        self._keys = tuple(inspect.signature(build).parameters)
        self._columns = tuple(columns)
        # Per thread, as database connections are: the compiler is bound to one.
        self._local = threading.local()
        self._model: type[M] | None = None

    def __call__(self, **keys: int) -> list[M]:
        if set(keys) != set(self._keys):
            raise TypeError(f"expected the keys {self._keys}, got {tuple(keys)}")
        db = router.db_for_read(self._model) if self._model else None
        compiled = getattr(self._local, db, None) if db else None
        if compiled is None:
            db, compiled = self._compile()
        params = list(compiled.params)
        for position, key in compiled.key_slots:
            params[position] = keys[key]
        with connections[db].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return [
            self._instance(db, compiled, row)
            for row in compiled.compiler.results_iter(results=[rows], tuple_expected=True)
        ]

    @staticmethod
    def _instance(db: str, compiled: _Compiled, row: tuple[Any, ...]) -> M:
        instance = compiled.main.instance(db, row)
        for relation in compiled.relations:
            related = None
            if row[relation.key_position] is not None:
                related = relation.loaded.instance(db, row)
            setattr(instance, relation.name, related)
        return instance

    def _compile(self) -> tuple[str, _Compiled]:
        stand_ins = {key: _STAND_IN - index for index, key in enumerate(self._keys)}
        queryset = self._build(**stand_ins)
        model, db = queryset.model, queryset.db
        names, main, relations = _layout(model, self._columns)
        compiler = queryset.values_list(*names).query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        keys_by_stand_in = {value: key for key, value in stand_ins.items()}
        key_slots = tuple(
            (position, keys_by_stand_in[value])
            for position, value in enumerate(params)
            if isinstance(value, int) and value in keys_by_stand_in
        )
        if {key for _, key in key_slots} != set(self._keys):
            raise ImproperlyConfigured(f"{self._keys} must each be a parameter of: {sql}")
        compiled = _Compiled(sql, tuple(params), key_slots, compiler, main, relations)
        setattr(self._local, db, compiled)
        self._model = model
        return db, compiled


def _layout(
    model: type[models.Model], columns: Sequence[str]
) -> tuple[list[str], _Loaded, tuple[_Relation, ...]]:
    """The names to select, and where each model's columns land in a row."""
    names: list[str] = []

    def position(name: str) -> int:
        if name not in names:
            names.append(name)
        return names.index(name)

    own = {model._meta.pk.attname} | {c for c in columns if "__" not in c}
    main = _loaded(model, own, position, prefix="")
    relations = []
    for name in dict.fromkeys(c.split("__")[0] for c in columns if "__" in c):
        field = model._meta.get_field(name)
        if not (field.many_to_one or field.one_to_one) or field.auto_created:
            raise ImproperlyConfigured(f"{model.__name__}.{name} is not a foreign key")
        fields = {field.target_field.attname} | {
            c.split("__", 1)[1] for c in columns if c.startswith(f"{name}__")
        }
        if any("__" in f for f in fields):
            raise ImproperlyConfigured(f"only one relation deep: {columns}")
        loaded = _loaded(field.related_model, fields, position, prefix=f"{name}__")
        relations.append(_Relation(name, position(field.attname), loaded))
    return names, main, tuple(relations)


def _loaded(
    model: type[models.Model], attnames: set[str], position: Callable[[str], int], prefix: str
) -> _Loaded:
    # Model.from_db takes the values in the order of the model's fields.
    ordered = [f.attname for f in model._meta.concrete_fields if f.attname in attnames]
    if unknown := attnames - set(ordered):
        raise ImproperlyConfigured(f"{model.__name__} has no columns {sorted(unknown)}")
    return _Loaded(model, tuple(ordered), tuple(position(prefix + a) for a in ordered))
