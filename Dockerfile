# livetally image: one image, run as api, worker or feed (see docker-compose.yml).
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
# The vendor files `make assets` builds (keep the two alike): ECharts, and Noto Sans SC 400 and
# 700 as woff2 slices with the woff fallback cut from their CSS, so a wall PC without Chinese
# fonts still shows Chinese.
RUN npm ci --no-audit --no-fund \
    && mkdir -p vendor/noto-sans-sc/files \
    && cp node_modules/echarts/dist/echarts.min.js vendor/ \
    && for w in 400 700; do \
         sed -E 's#, url\(([^)]*)\.woff\) format\(.woff.\)##' node_modules/@fontsource/noto-sans-sc/$w.css > vendor/noto-sans-sc/$w.css; \
         cp node_modules/@fontsource/noto-sans-sc/files/noto-sans-sc-*-$w-normal.woff2 vendor/noto-sans-sc/files/; \
       done

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
