from __future__ import annotations

# Load the Celery app whenever Django starts so @shared_task uses it.
from avhopp.celery import app as celery_app

__all__ = ["celery_app"]
