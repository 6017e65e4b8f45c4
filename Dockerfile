# Multi-stage build of EventHub. Untested here: these machines have no Docker engine.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN bash scripts/build

FROM debian:bookworm-slim
# postgresql-client: pg_dump / pg_restore for `eventhub backup` and `restore` on PostgreSQL.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates postgresql-client && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /srv/eventhub eventhub
WORKDIR /srv/eventhub
COPY --from=build /src/target/release/eventhub /usr/local/bin/eventhub
COPY --from=build /src/target/site /srv/eventhub/site
ENV EVENTHUB_ADDR=0.0.0.0:3000 EVENTHUB_DATA_DIR=/srv/eventhub/data EVENTHUB_SITE_ROOT=/srv/eventhub/site
RUN mkdir -p /srv/eventhub/data && chown eventhub /srv/eventhub/data
USER eventhub
EXPOSE 3000
# `eventhub health` asks the server's own /healthz (no shell or curl needed in the image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["eventhub", "health"]
CMD ["eventhub", "serve"]
