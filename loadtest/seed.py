"""Seed the load-test database: `manage.py seed_loadtest` (devdata) run as a script.

Run in the application's environment (DATABASE_URL etc.):

    .venv/bin/python loadtest/seed.py MANIFEST.json
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avhopp.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: seed.py MANIFEST.json")
    call_command("seed_loadtest", sys.argv[1])
