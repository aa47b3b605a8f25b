#!/usr/bin/env bash
# The explain page in a real browser (headless Chromium): loads it at 1280 px and 400 px, reads the
# DOM after the scripts ran, and checks the slider, the axis labels and ticks, the legend, that the
# page fits the window, and the state of known tokens at known steps against the exact values that
# `interpcert explain` prints as text. Screenshots are kept in OUTDIR for people to look at.
# Usage: html_render_test.sh INTERPCERT CHROMIUM SOURCE_ROOT OUTDIR
set -u
ic=$1; chromium=$2; root=$3; out=$4
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

browse() {  # browse WIDTH URL PNG: the DOM after the scripts ran (stdout), and a screenshot
  local profile; profile=$(mktemp -d -p "$tmp")
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$profile" \
    --hide-scrollbars --virtual-time-budget=3000 --window-size="$1",900 --dump-dom --screenshot="$3" "$2" 2>/dev/null
}

# The pages to check: NAME|DATASET|STEP|CONTEXT|TOKEN|SIDE. At step STEP, TOKEN (e.g. "(1, 0)") of
# context CONTEXT must be drawn at the state the text prints for it (SIDE: before or after the step).
pages=(
  "shared_top|$root/examples/shared_top.json|code:1|0|(1, 0)|after"
  "shared_top|$root/examples/shared_top.json|promote:1|2|(2, -1)|after"
  "shared_top|$root/examples/shared_top.json|hats|0|(0, 0)|before"
  "hand|$root/examples/hand/dataset.json|code:0|2|(3, -1)|after"
  "twenty|$root/examples/twenty_sequences.json|code:1|0|(0, 1)|after"
)
# One browser run per page and width (dump and screenshot together), one at a time: Chromium is heavy.
for p in "${pages[@]}"; do
  IFS='|' read -r name ds step ctx token side <<<"$p"
  [ -f "$tmp/$name.html" ] || "$ic" explain "$ds" --html "$tmp/$name.html" >/dev/null
  for w in 1280 400; do
    browse "$w" "file://$tmp/$name.html#step=$step" "$out/$name-$step-$w.png" > "$out/$name-$step-$w.dom.html"
  done
done

for p in "${pages[@]}"; do
  IFS='|' read -r name ds step ctx token side <<<"$p"
  steps=$("$ic" explain "$ds" --list-steps | wc -l)
  # The exact state from the text: "context C (sequence J), token T: BEFORE -> AFTER".
  line=$("$ic" explain "$ds" --step "$step" --max-listed 1000 | grep -F "context $ctx (sequence" | grep -F "token $token: " | head -1)
  if [ "$side" = after ]; then state=${line##* -> }; else state=${line#*: }; state=${state%% -> *}; fi
  [ -n "$line" ] && [ -n "$state" ] || { bad "$name: no state of $token in the text of step $step"; continue; }
  for w in 1280 400; do
    dom="$out/$name-$step-$w.dom.html"
    grep -q 'id="slider"[^>]*max="'$((steps - 1))'"' "$dom" || grep -q 'max="'$((steps - 1))'"[^>]*id="slider"' "$dom" \
      && ok || bad "$name $w: the slider does not span the $steps steps"
    grep -q "<span id=\"stepname\">[0-9]*/$steps: $step</span>" "$dom" && ok || bad "$name $w: step $step not shown"
    grep -q 'class="axis-label"[^>]*>k.z  (k = ' "$dom" && grep -q 'class="axis-label"[^>]*>w.z  (w = ' "$dom" \
      && ok || bad "$name $w: axis labels missing"
    [ "$(grep -o 'class="tick"' "$dom" | wc -l)" -ge 6 ] && ok || bad "$name $w: fewer than 6 axis ticks"
    grep -q 'id="legend"><span class="ctx"><span class="sw"[^>]*></span>context 0 ' "$dom" && ok || bad "$name $w: no legend"
    grep -q "context $ctx (sequence [0-9]*), token $token: now at $state" "$dom" && ok \
      || bad "$name $w: token $token of context $ctx is not drawn at $state (the text's state $side $step)"
    grep -q "data-z=\"$state\"" "$dom" && ok || bad "$name $w: no point drawn at $state"
    grep -q 'class="label"' "$dom" && ok || bad "$name $w: no token labels"
    grep -q '<span class="ok">HOLDS</span>' "$dom" && ! grep -q 'class="bad"' "$dom" && ok || bad "$name $w: check not shown as HOLDS"
    sw=$(grep -o 'data-scroll-width="[0-9]*"' "$dom" | grep -o '[0-9]*'); vw=$(grep -o 'data-view-width="[0-9]*"' "$dom" | grep -o '[0-9]*')
    [ -n "$sw" ] && [ "$sw" -le "$vw" ] && ok || bad "$name $w: the page is wider ($sw px) than the window ($vw px)"
    [ -s "$out/$name-$step-$w.png" ] && ok || bad "$name $w: no screenshot"
  done
done
echo "screenshots and DOM dumps: $out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
