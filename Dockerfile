# Production image for Avhopp (web, Celery worker and beat share it).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint's native libraries and fonts; gettext for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# The runtime dependencies only: the dev extra (pytest, playwright, locust, ruff, ...) is
# in requirements-dev.lock, which the image never installs.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
# Keep local state, and the development-only code and data (the devdata app with the demo
# loader and the seeds, the tests, the benchmark, the load test), out of the image even
# without a .dockerignore.
RUN rm -rf .venv data .git .pytest_cache .ruff_cache \
    devdata tests bench loadtest requirements-dev.lock

# Build-time only settings: production mode (devdata is not installed, and is not in the
# image), with a throwaway key and host name that the runtime environment replaces. Static
# files are collected into the image's /data/staticfiles (STATIC_ROOT lives under
# AVHOPP_DATA_DIR); WhiteNoise also serves through the finders, so a stale copy in an older
# volume is harmless.
ENV AVHOPP_DATA_DIR=/data
RUN DJANGO_ENV=production DJANGO_ALLOWED_HOSTS=build.invalid \
    DJANGO_SECRET_KEY=build-time-dummy-key-never-used-at-runtime-only-for-collectstatic \
    sh -c 'python manage.py compilemessages --ignore=.venv -v 0 \
        && python manage.py collectstatic --noinput -v 0'

RUN useradd --system --create-home --uid 10001 --user-group avhopp \
    && mkdir -p /data \
    && rm -f /data/secret_key /data/avhopp.sqlite3 \
    && chown -R avhopp:avhopp /data

VOLUME ["/data"]
USER avhopp

EXPOSE 8000

CMD ["gunicorn", "avhopp.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
