# syntax=docker/dockerfile:1
# rolecall as a container: `rolecall run` with the manifests mounted at /manifests.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the prepare script builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY src ./src
# The build bundles the SDK clients after tsc (only the commands rolecall sends).
COPY scripts/bundle-sdk.mjs ./scripts/
RUN npm run build

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    ROLECALL_HOST=0.0.0.0 \
    ROLECALL_PORT=8080 \
    ROLECALL_MANIFESTS=/manifests \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
COPY policies ./policies
COPY web ./web
USER node
EXPOSE 8080
# Node's own fetch: the image needs no curl or wget for its health check.
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.ROLECALL_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# V8 in lite mode with a small young generation: the controller waits on AWS, not on the CPU, and this keeps
# its resident memory about a third lower (measured by npm run bench, which starts the daemon the same way).
# Lite mode runs without a JIT, which leaves no WebAssembly: --no-expose-wasm says so, or V8 prints a plain-text
# warning before rolecall's first (JSON) log line. Host and manifests come from ROLECALL_HOST and
# ROLECALL_MANIFESTS above, so deployments can point them elsewhere (deploy/compose, deploy/kubernetes).
# Extra flags go after the image name: docker run … rolecall --resync 30s
ENTRYPOINT ["node", "--lite-mode", "--no-expose-wasm", "--max-semi-space-size=1", "dist/cli.js", "run"]
