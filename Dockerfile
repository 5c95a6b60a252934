# keyhound in a container: `docker run --rm -v "$PWD:/src" keyhound history /src`.
# Multi-stage: the Rust toolchain and C/C++ build tools stay in the builder; the final image
# holds the binary, git (history scans read objects through it when present) and CA certificates.

FROM rust:1.89-slim-bookworm AS build
# The image is built with the `vectorscan` feature (the keyword pass on Vectorscan, C++): its
# build needs a C++ compiler, cmake, ragel and the Boost headers, here only.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ cmake ragel libboost-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Dependencies first, so a source change does not rebuild them.
COPY Cargo.toml Cargo.lock build.rs ./
COPY rules ./rules
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --features vectorscan --bin keyhound \
    && strip target/release/keyhound

FROM debian:bookworm-slim
# Package versions are left to the distribution's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin keyhound \
    && git config --system --add safe.directory '*'
COPY --from=build /build/target/release/keyhound /usr/local/bin/keyhound
USER 10001:10001
WORKDIR /src
ENTRYPOINT ["keyhound"]
CMD ["scan", "."]
