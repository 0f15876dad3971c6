# Claims Ledger: the HTTP API on an embedded SQLite file in /data, or on PostgreSQL.
#
#   docker build -t claims-ledger .
#   docker run -d -p 8000:8000 -v claims-ledger-data:/data \
#     -e CLAIMS_LEDGER_API_KEYS="admin:admin:$(openssl rand -hex 24)" claims-ledger
#
# It listens on 0.0.0.0, which the service refuses without API keys: set
# CLAIMS_LEDGER_API_KEYS (principal:role:token,...). For PostgreSQL set
# CLAIMS_LEDGER_STORE=postgresql://user:password@host:5432/db. Other commands run as
# arguments: `docker run ... claims-ledger verify`, `... serve --demo`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv
# Every RUN that installs is one .ci/run runs too (tests/e2e/test_readme.py checks), so CI
# proves the image's installs: uv, then the dependencies pinned in uv.lock, then the project.
RUN pip install "uv==0.13.9"

WORKDIR /app
# The dependencies first, from the lock alone: a change to the sources reuses this layer,
# and an image built twice holds the same versions (--locked: a lock that no longer matches
# pyproject.toml fails the build). Without the test tools; the PostgreSQL driver included.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project --no-dev --extra postgres
COPY README.md LICENSE ./
COPY ledger ./ledger
COPY api ./api
COPY ledger_cli ./ledger_cli
RUN uv sync --locked --no-dev --extra postgres --no-editable
ENV PATH=/opt/venv/bin:$PATH

RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin ledger \
    && mkdir /data && chown ledger:ledger /data

ENV CLAIMS_LEDGER_STORE=sqlite:////data/ledger.sqlite3 \
    CLAIMS_LEDGER_HOST=0.0.0.0 \
    CLAIMS_LEDGER_PORT=8000 \
    CLAIMS_LEDGER_LOG_FORMAT=json
VOLUME ["/data"]
USER ledger
EXPOSE 8000

# No curl in the slim image: Python asks /healthz (urlopen raises on an error status).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CLAIMS_LEDGER_PORT', '8000'), timeout=4)"]

ENTRYPOINT ["claims-ledger"]
CMD ["serve"]
