# Loket: multi-stage build. The runtime stage has only production dependencies and the sources
# (Node 24 runs the TypeScript directly), runs as a non-root user, and Node is PID 1's only child
# of tini, so SIGTERM reaches Node and Loket stops cleanly (finishes transactions in flight).
#   docker build -t loket .
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 loket \
 && useradd --system --uid 10001 --gid loket --home-dir /app --shell /usr/sbin/nologin loket \
 && mkdir -p /data && chown loket:loket /data
WORKDIR /app
ENV NODE_ENV=production LOKET_CONFIG=/etc/loket/config.yaml
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY config/config.sample.yaml ./config/
USER loket
EXPOSE 9993
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.LOKET_APPSERVICE__PORT || 9993) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tini forwards SIGTERM to Node (which, as PID 1 itself, would get no default signal handling).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/loket.js"]
CMD ["start"]
