# Multi-stage build: compile lrsgate and the conformance suite (lrs-conformance), then run
# them from a small Debian image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY src ./src
COPY schemas ./schemas
COPY conformance ./conformance
RUN cargo build --release --locked --bin lrsgate --bin lrs-conformance \
    && strip target/release/lrsgate target/release/lrs-conformance

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/lrsgate --create-home lrsgate
COPY --from=build /src/target/release/lrsgate /src/target/release/lrs-conformance /usr/local/bin/
USER 10001
# The embedded store lives on this volume; keep it when the container is replaced.
VOLUME ["/var/lib/lrsgate"]
ENV LRSGATE_LISTEN=0.0.0.0:8080 \
    LRSGATE_STORE=sqlite:///var/lib/lrsgate/lrsgate.db
EXPOSE 8080
# The slim image has no curl: `lrsgate health` asks /health/ready on LRSGATE_LISTEN and
# exits 0 when the gateway is ready.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["lrsgate", "health"]
# SIGTERM (docker stop's signal) shuts down gracefully within LRSGATE_SHUTDOWN_TIMEOUT_SECS
# (25 s); give `docker stop` a longer grace, e.g. `docker stop -t 35`.
ENTRYPOINT ["lrsgate"]
CMD ["serve"]
