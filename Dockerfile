# elastic-artifact-mirror: serve (default) or any other command.
#   docker build -t elastic-artifact-mirror .
#   docker run -d -p 8080:8080 -v mirror:/artifacts elastic-artifact-mirror
#   docker run --rm -v mirror:/artifacts elastic-artifact-mirror sync --versions latest

# Build: all dependencies, compile TypeScript, then drop the dev dependencies.
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/build.mjs
COPY src src
RUN npm ci --no-audit --no-fund \
	&& npm prune --omit=dev --no-audit --no-fund

# Run: Node 26, the Active LTS line since October 2026; production files only, as the unprivileged node user.
FROM node:26-slim
ENV NODE_ENV=production \
	MIRROR_DIR=/artifacts \
	MIRROR_PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN ln -s /app/dist/cli/index.js /usr/local/bin/artifact-mirror \
	&& mkdir -p /artifacts \
	&& chown node:node /artifacts
USER node
VOLUME /artifacts
EXPOSE 8080
# No curl in the image: Node's own fetch asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
	CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.MIRROR_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["artifact-mirror"]
CMD ["serve"]
