# Multi-stage build: compile lrsgate and the conformance suite (lrs-conformance), then run
# them from a small Debian image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
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
ENTRYPOINT ["lrsgate"]
CMD ["serve"]
