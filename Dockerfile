# Multi-stage build of EventHub. Untested here: these machines have no Docker engine.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN bash scripts/build

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /srv/eventhub eventhub
WORKDIR /srv/eventhub
COPY --from=build /src/target/release/eventhub /usr/local/bin/eventhub
COPY --from=build /src/target/site /srv/eventhub/site
ENV EVENTHUB_ADDR=0.0.0.0:3000 EVENTHUB_DATA_DIR=/srv/eventhub/data EVENTHUB_SITE_ROOT=/srv/eventhub/site
RUN mkdir -p /srv/eventhub/data && chown eventhub /srv/eventhub/data
USER eventhub
EXPOSE 3000
HEALTHCHECK CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/3000"]
CMD ["eventhub", "serve"]
