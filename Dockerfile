# The modstream image: stream workers, executor, tools. Slim, non-root, pinned.
FROM python:3.11.7-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 modstream
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY streams ./streams
COPY workers ./workers
COPY deploy/policy ./deploy/policy
RUN pip install --no-cache-dir . && mkdir -p /data && chown modstream /data
USER modstream
ENV MODSTREAM_DATA_DIR=/data MODSTREAM_WEB_HOST=0.0.0.0
EXPOSE 6066
CMD ["python", "-m", "workers.worker"]
