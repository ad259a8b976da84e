# livetally image: one image, run as api, worker or feed (see docker-compose.yml).
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
COPY scripts/assets.sh ./
# The vendor files, by the same step as `make assets` (fonts included).
RUN npm ci --no-audit --no-fund && bash assets.sh node_modules vendor

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY events events
COPY projections projections
COPY worker worker
COPY service service
COPY --from=assets /build/vendor service/pages/static/vendor
RUN pip install .
RUN useradd --system livetally
USER livetally
EXPOSE 8000 8765
CMD ["livetally", "api", "--host", "0.0.0.0"]
