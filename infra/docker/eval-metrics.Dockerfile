# syntax=docker/dockerfile:1.7
# The evaluation-metrics service.
# Build from the repository root:
#   docker build -f infra/docker/eval-metrics.Dockerfile -t stratus/eval-metrics .
ARG NODE_IMAGE=node:20.19-bookworm-slim

# Every workspace's package.json and the lock file: `npm ci` checks the lock against all of them,
# and keeping them apart from the sources lets the dependency layers be cached across code changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && cp package.json package-lock.json /manifests/ \
 && find packages services test infra -name package.json -not -path '*/node_modules/*' \
      -exec cp --parents {} /manifests/ \;

# Compile the service and the workspaces it stands on.
FROM ${NODE_IMAGE} AS build
WORKDIR /repo
COPY --from=manifests /manifests/ ./
RUN npm ci --include-workspace-root \
      --workspace=@stratus/core --workspace=@stratus/aws --workspace=@stratus/jobs \
      --workspace=@stratus/eval-metrics
COPY tsconfig.base.json ./
COPY packages/core packages/core
COPY packages/aws packages/aws
COPY packages/jobs packages/jobs
COPY services/eval-metrics services/eval-metrics
RUN npx tsc -b services/eval-metrics

# Production dependencies only (no compiler, no test tools), then the compiled code beside them:
# workspace links in node_modules point at packages/* and services/*, so the layout is kept.
FROM ${NODE_IMAGE} AS production
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --omit=dev \
      --workspace=@stratus/core --workspace=@stratus/aws --workspace=@stratus/jobs \
      --workspace=@stratus/eval-metrics \
 && npm cache clean --force
COPY --from=build /repo/packages/core/dist packages/core/dist
COPY --from=build /repo/packages/aws/dist packages/aws/dist
COPY --from=build /repo/packages/jobs/dist packages/jobs/dist
COPY --from=build /repo/services/eval-metrics/dist services/eval-metrics/dist

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
# Owned by root and only readable by the service: the code cannot be changed at run time.
COPY --from=production /app /app
# The `node` user (uid 1000) of the official image; the pod spec runs as the same uid.
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "services/eval-metrics/dist/main.js"]
