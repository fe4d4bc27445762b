"""The benchmark's process setup: a Redis database and a document folder of its own, then
Django on DATABASE_URL. Each entry point calls `setup()` before it imports the app."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"


def bench_redis_url(url: str) -> str:
    """A Redis database of our own (BENCH_REDIS_DB, 7 unless set), so no other worker on the
    same server takes our jobs."""
    if not url:
        return ""
    base = url.rsplit("/", 1)[0] if url.count("/") >= 3 else url
    return f"{base}/{os.environ.get('BENCH_REDIS_DB', '7')}"


def setup() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avhopp.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    os.environ["REDIS_URL"] = bench_redis_url(os.environ.get("REDIS_URL", ""))
    os.environ["AVHOPP_DOCUMENT_ROOT"] = tempfile.mkdtemp(prefix="avhopp-bench-docs-")

    import django

    django.setup()
