# lwm2m-hub container image for linux/amd64, linux/arm64 and linux/arm/v7 (32-bit Raspberry Pi OS).
#
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 -t <registry>/lwm2m-hub:0.1.0 --push .
#   docker build -t lwm2m-hub .        # the build machine's architecture only, into the local engine
#   docker run --rm -p 5683:5683/udp -p 1883:1883 -p 8080:8080 -v lwm2m-hub-data:/data lwm2m-hub
#
# Every option is also an environment variable (LWM2M_HUB_COAP_PORT, ...; see README): the image
# takes no arguments. deploy/ has Compose files and Kubernetes manifests, docs/deploy.md explains them.
#
# test/deploy/production-install.test.ts repeats the `deps` and final stages outside Docker (the
# same COPY sources, RUN, ENV, USER and ENTRYPOINT) and test/deploy/dockerfile.test.ts checks the
# rules below; keep to the instructions they understand.
#
# The Debian 12 "bookworm" variant of the official image: its Debian 13 variants are not built
# for linux/arm/v7.

# TypeScript to JavaScript. The output is the same on every architecture, so this stage runs on
# the build machine's own platform rather than under emulation.
FROM --platform=$BUILDPLATFORM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# vendor/ holds stand-ins for optional native extensions (see README); npm links them into node_modules.
COPY vendor ./vendor
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The server bundled into dist/cli.js (scripts/build-bundle.mjs), the web page (web/, built by
# scripts/build-web.mjs into dist/web) and the shipped object definitions, parsed once into
# dist/objects.json (scripts/build-objects.mjs).
COPY scripts/build-bundle.mjs scripts/build-web.mjs scripts/build-objects.mjs ./scripts/
COPY web ./web
COPY objects ./objects
RUN npm run build

# Production dependencies only. They are plain JavaScript (no native addon: docs/deploy.md, and the
# production-install test fails if one appears), so they too install on the build platform and the
# image for each architecture is assembled by copying: no QEMU is needed to build arm64 or armv7.
# A dependency with a native addon would have to install in a stage of the target platform.
FROM --platform=$BUILDPLATFORM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY vendor ./vendor
RUN npm ci --omit=dev --no-audit --no-fund && mkdir data

FROM node:20-bookworm-slim
ENV NODE_ENV=production LWM2M_HUB_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json NOTICE ./
COPY vendor ./vendor
COPY objects ./objects
# Registrations, observations and retained MQTT messages survive restarts in the /data volume;
# it belongs to the user below, so a new named volume (which copies it) is writable too.
COPY --from=deps --chown=1000:1000 /app/data /data
VOLUME /data
# The base image's unprivileged "node" user, by number so that Kubernetes' runAsNonRoot can verify
# it; ports above 1024 need no capability.
USER 1000:1000
# 5684/udp is CoAP over DTLS, when it is enabled.
EXPOSE 5683/udp 5684/udp 1883 8080
# start-period: a file store of 100 000 registrations is read back in seconds on amd64, longer on a Pi.
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.LWM2M_HUB_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node runs as PID 1 and gets SIGTERM itself, which it handles with a graceful stop
# (exit 0 within 2 s).
ENTRYPOINT ["node", "dist/cli.js"]
