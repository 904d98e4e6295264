# The modstream image: stream workers, executor, tools. Slim, non-root, reproducible.
#
# Two stages on one base: "build" installs the locked dependencies (requirements.lock, every
# file checked against its sha256) and the project into a virtualenv; the runtime stage copies
# only that virtualenv and the policy files, so no pip cache, build backend run or compiler
# output is left behind, and two builds of one commit install the same bytes.
#
# BASE names the image by tag AND digest: the tag says what it is, the digest is what is
# pulled. Security releases of 3.11 come as patch versions: bump the tag and the digest together
# with deploy/docker/pin-base.sh (it asks the registry for the tag's digest). The digest below is
# left for that script to fill: it could not be resolved where this file was last edited (no
# registry access), and a made-up digest would only fail the pull.
ARG BASE=python:3.11.13-slim-bookworm@sha256:UNRESOLVED-run-deploy-docker-pin-base-sh

FROM ${BASE} AS build
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/modstream
WORKDIR /src
COPY requirements.lock ./
# --require-hashes: a file whose hash is not in the lock is refused, and so is any
# requirement the lock does not pin.
RUN /opt/modstream/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY streams ./streams
COPY workers ./workers
# The project itself, with the locked setuptools and nothing resolved afresh.
RUN /opt/modstream/bin/pip install --no-deps --no-build-isolation .

FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/modstream/bin:$PATH
# A numeric uid/gid, so Kubernetes can check runAsNonRoot without resolving a name.
RUN groupadd --gid 10001 modstream && useradd --create-home --uid 10001 --gid 10001 modstream \
    && mkdir -p /data/evidence && chown -R 10001:10001 /data
COPY --from=build /opt/modstream /opt/modstream
WORKDIR /app
COPY deploy/policy ./deploy/policy
USER 10001:10001
# /app and /opt are root-owned and read-only to the process: everything it writes goes under
# /data (RocksDB tables, the executor's evidence store), which deployments mount as a volume.
ENV MODSTREAM_DATA_DIR=/data MODSTREAM_EVIDENCE_DIR=/data/evidence MODSTREAM_WEB_HOST=0.0.0.0 \
    MODSTREAM_POLICY=/app/deploy/policy/ctmuhb.yaml
# 6066: worker web (/metrics, /healthz, /readyz); 6166: executor /metrics (web port + 100).
EXPOSE 6066 6166
CMD ["modstream-worker"]
