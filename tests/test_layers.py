"""The layers hold: import-linter's contracts in pyproject.toml (the core imports no feature
app, cases/ no referrals/, and nothing imports the development-only devdata/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_only_policy_modules_decide_by_role() -> None:
    """Role names and PermissionDenied appear in application code only in the policy modules
    (forms and models name roles as choices, which decides nothing)."""
    allowed = {
        "avhopp/policy.py",
        "cases/policy.py",
        "referrals/policy.py",
        "retention/policy.py",
        "method/policy.py",
    }
    offenders = []
    for app in ("avhopp", "cases", "referrals", "retention", "method"):
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative in allowed or "/migrations/" in relative:
                continue
            text = path.read_text()
            for needle in ("PermissionDenied", ".role ==", ".role !=", ".role in", "Role."):
                if needle in text:
                    offenders.append(f"{relative}: {needle}")
    known_choices = {"avhopp/models.py: Role.", "avhopp/user_views.py: Role."}
    assert sorted(set(offenders) - known_choices) == []
