#!/usr/bin/env bash
# Renders `interpcert explain --html` in headless Chromium and checks that the screenshot shows the
# figures: the palette colours of tokens and arrows are present in the pixels.
# Usage: html_render_test.sh INTERPCERT CHROMIUM SOURCE_ROOT CONVERT (ImageMagick)
set -eu
ic=$1; chromium=$2; root=$3; convert=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$ic" explain "$root/examples/shared_top.json" --html "$tmp/page.html" >/dev/null
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$tmp/profile" \
  --window-size=1000,6000 --screenshot="$tmp/page.png" "file://$tmp/page.html" >/dev/null 2>&1
[ -s "$tmp/page.png" ] || { echo "no screenshot"; exit 1; }
hist=$("$convert" "$tmp/page.png" -format %c histogram:info:-)
found=0
for colour in 1F77B4 D62728 2CA02C 9467BD E0A800; do
  if grep -qi "#$colour" <<<"$hist"; then found=$((found + 1)); fi
done
echo "palette colours found in the screenshot: $found of 5"
[ "$found" -ge 4 ] && echo "1 passed, 0 failed" || { echo "0 passed, 1 failed"; exit 1; }
