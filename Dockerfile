# The modstream image: stream workers, executor, tools. Slim, non-root, pinned.
# Security releases of 3.11 come as patch versions: bump this tag, never float it.
FROM python:3.11.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A numeric uid/gid, so Kubernetes can check runAsNonRoot without resolving a name.
RUN groupadd --gid 10001 modstream && useradd --create-home --uid 10001 --gid 10001 modstream
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY streams ./streams
COPY workers ./workers
COPY deploy/policy ./deploy/policy
RUN pip install --no-cache-dir . && mkdir -p /data/evidence && chown -R 10001:10001 /data
USER 10001:10001
# /app is root-owned and read-only to the process: everything it writes goes under /data
# (RocksDB tables, the executor's evidence store), which deployments mount as a volume.
ENV MODSTREAM_DATA_DIR=/data MODSTREAM_EVIDENCE_DIR=/data/evidence MODSTREAM_WEB_HOST=0.0.0.0
# 6066: worker web (/metrics, /healthz, /readyz); 6166: executor /metrics (web port + 100).
EXPOSE 6066 6166
CMD ["python", "-m", "workers.worker"]
