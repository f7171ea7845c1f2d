# syntax=docker/dockerfile:1
# One image with both commands: `api` (the default) and `ingest`. See compose.yaml.

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
COPY . .
# The registry and target caches persist between builds, so a code change recompiles only the
# workspace crates. The target dir is a cache mount, not part of the image: copy the binaries
# out in the same step. `locked`: concurrent builds (compose builds api and ingest) take turns.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p api -p ingest \
    && cp target/release/api target/release/ingest /usr/local/bin/

FROM debian:bookworm-slim
# No ca-certificates: database TLS uses rustls with built-in root certificates.
RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && install -d -o app -g app /app
COPY --from=builder /usr/local/bin/api /usr/local/bin/ingest /usr/local/bin/
COPY seeds /app/seeds
# Without DATABASE_URL the api creates the embedded archive.sqlite here, hence owned by app.
WORKDIR /app
USER 10001:10001
ENV BIND_ADDR=0.0.0.0:8000
EXPOSE 8000
# No HEALTHCHECK: the image has no HTTP client. Probe GET /healthz (up) and GET /readyz
# (database answers) from the orchestrator instead.
ENTRYPOINT ["api"]
