# The platform image for users with Docker: the `afl` CLI, the stream job and Dagster.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
 && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    AFL_HOME=/var/lib/afl \
    AFL_CACHE_DIR=/opt/afl-cache \
    DAGSTER_HOME=/opt/dagster/home

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY pipelines ./pipelines
COPY jobs ./jobs
COPY dagster_project ./dagster_project
COPY expectations ./expectations
RUN pip install --no-cache-dir -c constraints.txt . \
 && afl spark resolve
COPY docker/dagster.yaml /opt/dagster/home/dagster.yaml
