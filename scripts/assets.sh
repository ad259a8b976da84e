#!/usr/bin/env bash
# The pages' vendor files from npm packages, the one asset step: `make assets` and the
# Dockerfile's asset stage both run it. ECharts, and Noto Sans SC 400 and 700 as fontsource's
# unicode-range woff2 slices with the woff fallback cut from their CSS (a browser fetches only
# the slices of the characters a page shows, so a wall PC without Chinese fonts shows Chinese).
#
#   bash scripts/assets.sh NODE_MODULES VENDOR_DIR
#
# ASSETS is what the pages load (tests/unit/test_assets.py holds it equal to the templates).
set -euo pipefail
ASSETS="echarts.min.js noto-sans-sc/400.css noto-sans-sc/700.css"
modules=${1:?node_modules directory}
vendor=${2:?vendor directory}
font="$modules/@fontsource/noto-sans-sc"

rm -rf "$vendor"  # built anew: nothing left from an older build
mkdir -p "$vendor/noto-sans-sc/files"
cp "$modules/echarts/dist/echarts.min.js" "$vendor/echarts.min.js"
for weight in 400 700; do
  sed -E 's#, url\(([^)]*)\.woff\) format\(.woff.\)##' "$font/$weight.css" \
    > "$vendor/noto-sans-sc/$weight.css"
  # exactly the slices the stylesheet names (the package also has whole-font files no page loads)
  grep -o 'url(./files/[^)]*)' "$vendor/noto-sans-sc/$weight.css" | sed 's#url(./files/##; s#)$##' \
    | while read -r slice; do cp "$font/files/$slice" "$vendor/noto-sans-sc/files/"; done
done
for asset in $ASSETS; do
  test -s "$vendor/$asset" || { echo "assets: $vendor/$asset is missing" >&2; exit 1; }
done
