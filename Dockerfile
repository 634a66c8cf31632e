# One image for the api and the worker processes (docker-compose.yml runs both). GPU workers: Dockerfile.gpu.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# HOST: the server binds to loopback unless told otherwise; in a container it must listen on the container's interface.
ENV NODE_ENV=production HOST=0.0.0.0 DATA_DIR=/data MODEL_DIR=/app/plugins
WORKDIR /app
COPY --from=build /app /app
# The process runs as `node`: /data must be its own before VOLUME, or a fresh named volume (which copies
# the image folder's owner) is root's and the first write (keys, files, uploaded models) fails with EACCES.
RUN mkdir -p /data && chown node:node /data && chmod 0750 /data
VOLUME ["/data"]
# 4000: GraphQL (serve); 9464: /healthz, /readyz and /metrics of `worker` (WORKER_HTTP_PORT).
EXPOSE 4000 9464
USER node
# /healthz answers on the api's PORT; a worker's probe is set in docker-compose.yml (its own port).
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/cli.js", "serve"]
