# elastic-artifact-mirror: serve (default) or any other command.
#   docker build -t elastic-artifact-mirror .
#   docker run -d -p 8080:8080 -v mirror:/artifacts elastic-artifact-mirror
#   docker run --rm -v mirror:/artifacts elastic-artifact-mirror sync --versions latest
#
# Layers: the dependencies are installed from package.json and package-lock.json
# alone, before any source is copied, so a source change rebuilds only the
# compile step and the dist/ layer. --ignore-scripts: npm ci's prepare would
# build before src/ is there; the build stage runs it after copying src/.

# Production dependencies only, for the final image.
FROM node:26-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Build: every dependency, then compile TypeScript to dist/.
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/build.mjs
COPY src src
RUN npm run build

# Run: Node 26, the Active LTS line since October 2026; production files only, as the unprivileged node user.
FROM node:26-slim
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="elastic-artifact-mirror" \
	org.opencontainers.image.description="Mirror and serve Elastic Agent artifacts for air-gapped networks: verified, atomic, artifacts.elastic.co-shaped." \
	org.opencontainers.image.version="0.1.0" \
	org.opencontainers.image.licenses="Apache-2.0" \
	org.opencontainers.image.revision="${REVISION}" \
	org.opencontainers.image.created="${CREATED}"
# MIRROR_URL_FILE: serve leaves the URL it answers at there, so the health check
# finds it whatever --port, --host or TLS serve was given.
ENV NODE_ENV=production \
	MIRROR_DIR=/artifacts \
	MIRROR_PORT=8080 \
	MIRROR_URL_FILE=/tmp/artifact-mirror.url
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./package.json
COPY --from=build /app/dist ./dist
RUN ln -s /app/dist/cli/index.js /usr/local/bin/artifact-mirror \
	&& mkdir -p /artifacts \
	&& chown node:node /artifacts
USER node
VOLUME /artifacts
EXPOSE 8080
# No curl in the image: the CLI asks /healthz over HTTP or HTTPS, on the port serve really uses.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
	CMD ["artifact-mirror", "healthcheck"]
ENTRYPOINT ["artifact-mirror"]
CMD ["serve"]
