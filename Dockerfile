# One image for every driftwatch service and processor; the command picks the component.
# Node 20 reached end of life in 2026: the image uses the current LTS.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# The whole lock, dev dependencies included: the components run their TypeScript through tsx, a
# devDependency, and `npm ci` installs it (and its esbuild) at exactly the locked versions. The
# alternative, `npm ci --omit=dev` then `npm install --no-save tsx@<range>`, asks for a range rather
# than the locked version, and that second install would not omit the dev dependencies anyway (it
# does not inherit ci's --omit).
RUN npm ci --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production TZ=UTC
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY lib ./lib
COPY stream-processors ./stream-processors
COPY services ./services
COPY models ./models
COPY infra/demo-bootstrap.ts ./infra/demo-bootstrap.ts
# The model registry's directory (compose mounts the `models` volume here). A new named volume takes
# the owner of the image's directory, so the registry can write to it as `node`.
RUN mkdir -p /data/models && chown node:node /data/models
USER node
# e.g. `docker run driftwatch stream-processors/ingest/main.ts`
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["services/api/main.ts"]
