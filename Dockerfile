# lwm2m-hub container image.
#   docker build -t lwm2m-hub .
#   docker run --rm -p 5683:5683/udp -p 1883:1883 -p 8080:8080 lwm2m-hub
# Every option is also an environment variable (LWM2M_HUB_COAP_PORT, ...; see README).

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# vendor/ holds the stand-in for cbor-x's optional native extension (see README).
COPY vendor ./vendor
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production LWM2M_HUB_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/vendor ./vendor
COPY --from=build /app/dist ./dist
COPY package.json NOTICE ./
COPY objects ./objects
# Registrations and observations survive restarts in the /data volume.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
# The base image's unprivileged "node" user (uid 1000); ports above 1024 need no capability.
USER node
EXPOSE 5683/udp 1883 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.LWM2M_HUB_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node runs as PID 1 and gets SIGTERM itself, which it handles with a graceful stop.
ENTRYPOINT ["node", "dist/cli.js"]
