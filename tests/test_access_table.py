"""Every URL that names an object has a row in the expectation table of
the access matrix (tests/access_support.py holds the expectation table and the world)."""

from __future__ import annotations

from tests.access_support import TABLE, discover_id_patterns

# --- URL discovery --------------------------------------------------------------------------


def test_discovery_finds_the_known_case_urls() -> None:
    names = {pattern.name for pattern in discover_id_patterns()}
    assert {"cases:detail", "cases:intervention_edit", "audit:case_readers"} <= names
    assert not any(name.startswith("admin:") for name in names)


def test_every_id_url_is_in_the_expectation_table() -> None:
    discovered = {pattern.name: pattern for pattern in discover_id_patterns()}
    missing = sorted(set(discovered) - set(TABLE))
    assert not missing, f"URL patterns with an id and no access expectation: {missing}"
    stale = sorted(set(TABLE) - set(discovered))
    assert not stale, f"expectations for URL patterns that no longer exist: {stale}"
    for name, pattern in discovered.items():
        known = {"case_pk", "pk"}
        assert pattern.params <= known, f"{name} takes unknown parameters {pattern.params}"
        assert ("pk" in pattern.params) == (TABLE[name].child is not None), name
