# One image for the api and the worker processes (docker-compose.yml runs both).
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
VOLUME ["/data"]
EXPOSE 4000
USER node
CMD ["node", "dist/src/cli.js", "serve"]
