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
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY ledger ./ledger
COPY api ./api
COPY ledger_cli ./ledger_cli
# The same install as CI's, without the test extras; the PostgreSQL driver included.
RUN pip install ".[postgres]"

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
