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

COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
# Keep local state out of the image even without a .dockerignore.
RUN rm -rf .venv data .git .pytest_cache .ruff_cache

# Build-time only settings: a throwaway key (not production mode, so nothing is
# required from the runtime environment). Static files are collected into the
# image's /data/staticfiles (STATIC_ROOT lives under AVHOPP_DATA_DIR); WhiteNoise
# also serves through the finders, so a stale copy in an older volume is harmless.
ENV AVHOPP_DATA_DIR=/data
RUN DJANGO_SECRET_KEY=build-time-dummy-not-used-at-runtime \
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
