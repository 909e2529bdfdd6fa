# modelgate image: docker build -t modelgate . && docker run -p 8080:8080 modelgate
# Build stage: install with dev dependencies (npm ci runs `prepare`, which builds dist/),
# then drop the dev dependencies so the runtime stage copies production ones only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 downloads a prebuilt binary; these build it from source if none fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# onnxruntime-node bundles its CPU binaries; its install script would fetch CUDA ones.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund \
 && test -f dist/main.js \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV MODELGATE_MODELS_DIR=/models \
    MODELGATE_DB=/data/modelgate.db \
    MODELGATE_SPILL_DIR=/data/spill
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Migrations are read at start, relative to dist/ (../migrations, ../migrations-pg).
COPY package.json ./
COPY migrations ./migrations
COPY migrations-pg ./migrations-pg
# The bundled models are an image layer; mount a volume over /models to serve your own.
COPY models /models
# The SQLite log and spill files (rows a drain could not write) live on a volume: the
# image itself is read-only at run time.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
# The `node` user (uid 1000) of the base image: never root.
USER node
# REST on PORT, the Open Inference Protocol's gRPC service on MODELGATE_GRPC_PORT.
EXPOSE 8080 8081
# node is PID 1 and receives SIGTERM itself: it stops accepting, finishes requests, drains the log.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/v2/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
