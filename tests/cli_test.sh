#!/usr/bin/env bash
# End-to-end tests of the interpcert command line: exit statuses, error paths, no half-written
# outputs, byte-identical determinism, and the bundled example certificates.
# Usage: cli_test.sh INTERPCERT INTERPCERT_CHECK SOURCE_ROOT
set -u
ic=$1; chk=$2; root=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect STATUS TEXT -- command...: the exit status and a text in stdout+stderr
expect() {
  local status=$1 text=$2; shift 3
  local out; out=$("$@" 2>&1); local got=$?
  if [[ $got -eq $status && "$out" == *"$text"* ]]; then ok; else bad "$* -> exit $got (want $status, '$text'):"; echo "$out" | head -5 | sed 's/^/    /'; fi
}
ds() {  # writes a dataset with one edited fragment: ds NAME FROM TO
  sed "s|$2|$3|" "$root/examples/two_sequences.json" > "$tmp/$1.json"
}

# Invalid datasets: exit 2 and the JSON path.
ds nan '"2","-1"' '"2","NaN"';               expect 2 "/sequences/0/input/2/1" -- "$ic" check "$tmp/nan.json"
ds inf '"2","-1"' '"2","Infinity"';          expect 2 "/sequences/0/input/2/1" -- "$ic" check "$tmp/inf.json"
ds infraw '"2","-1"' '"2",Infinity';         expect 2 "/sequences/0/input/2/1" -- "$ic" check "$tmp/infraw.json"
ds nanraw '"2","-1"' '"2",NaN';              expect 2 "/sequences/0/input/2/1" -- "$ic" check "$tmp/nanraw.json"
ds dim '"2","-1"' '"2","-1","3"';            expect 2 "/sequences/0/input/2" -- "$ic" check "$tmp/dim.json"
ds zero '"2","-1"' '"2","1/0"';              expect 2 "zero denominator" -- "$ic" check "$tmp/zero.json"
ds mgtn '"output": \[\["5","5"\]\]' '"output": [["5","5"],["5","5"],["5","5"],["5","5"]]'
expect 2 "/sequences/0/output" -- "$ic" check "$tmp/mgtn.json"
ds pos '"positions": \[1, 0\]' '"positions": [1, 2]'; expect 2 "/sequences/1/positions/1" -- "$ic" check "$tmp/pos.json"
ds dup '"positions": \[1, 0\]' '"positions": [1, 1]'; expect 2 "/sequences/1/positions/1" -- "$ic" check "$tmp/dup.json"
head -c 150 "$root/examples/two_sequences.json" > "$tmp/trunc.json"; expect 2 "invalid JSON" -- "$ic" check "$tmp/trunc.json"
expect 2 "cannot open" -- "$ic" check "$tmp/missing.json"
# Nothing half-written: a failing construct leaves no output file.
expect 2 "/sequences/0/input/2/1" -- "$ic" construct "$tmp/nan.json" -o "$tmp/never.json"
[[ ! -e "$tmp/never.json" ]] && ok || bad "construct wrote an output for invalid input"
expect 1 "INTERPOLATION IS IMPOSSIBLE" -- "$ic" construct "$root/examples/impossible.json" -o "$tmp/never.json"
[[ ! -e "$tmp/never.json" ]] && ok || bad "construct wrote an output for an impossible dataset"
ls "$tmp" | grep -q '\.tmp\.' && bad "temporary files left behind" || ok

# check: 0 applies (or interpolable beyond the hypotheses), 1 impossible with witness.
expect 0 "THE THEOREM APPLIES" -- "$ic" check "$root/examples/two_sequences.json"
expect 1 "O2 FOUND" -- "$ic" check "$root/examples/impossible.json"
expect 0 "INTERPOLABLE beyond the paper's hypotheses" -- "$ic" check "$root/examples/outside.json"
expect 0 "wrote" -- "$ic" construct "$root/examples/outside.json" -o "$tmp/outside_model.json"
expect 0 "EXACT INTERPOLATION" -- "$ic" run "$tmp/outside_model.json" "$root/examples/outside.json"
# Causal: order matters, so equal prefix proportions are no obstruction.
expect 1 "O2 FOUND" -- "$ic" check "$root/examples/causal_order.json"
expect 0 "Theorem 2, causal mask" -- "$ic" check --causal "$root/examples/causal_order.json"
expect 0 "wrote" -- "$ic" construct --causal "$root/examples/causal_order.json" -o "$tmp/causal_model.json"
grep -q '"mask": "causal"' "$tmp/causal_model.json" && ok || bad "construct --causal wrote no mask"
expect 0 "EXACT INTERPOLATION" -- "$ic" run "$tmp/causal_model.json" "$root/examples/causal_order.json"
sed 's/"mask": "causal",//' "$tmp/causal_model.json" > "$tmp/unmasked.json"
expect 1 "" -- "$ic" run "$tmp/unmasked.json" "$root/examples/causal_order.json"
expect 0 "Theorem 2, causal mask" -- "$ic" check --causal "$root/examples/impossible.json"
cat > "$tmp/runs.json" <<'JSON'
{"format": "interpcert-dataset", "version": 1, "d": 2, "sequences": [
  {"input": [["1","0"], ["1","0"]], "output": [["3","3"]]}, {"input": [["1","0"]], "output": [["4","4"]]}]}
JSON
expect 1 "C1 FOUND" -- "$ic" check --causal "$tmp/runs.json"
expect 1 "C1 FOUND" -- "$ic" construct --causal "$tmp/runs.json" -o "$tmp/never2.json"
[[ ! -e "$tmp/never2.json" ]] && ok || bad "construct --causal wrote a model for an impossible dataset"

# construct + run, and determinism byte for byte.
for w in 0 4; do
  expect 0 "wrote" -- "$ic" construct "$root/examples/shared_top.json" -o "$tmp/a$w.json" --max-ff-width $w
  expect 0 "wrote" -- "$ic" construct "$root/examples/shared_top.json" -o "$tmp/b$w.json" --max-ff-width $w --threads 1
  cmp -s "$tmp/a$w.json" "$tmp/b$w.json" && ok || bad "construct is not deterministic (width $w)"
  expect 0 "EXACT INTERPOLATION" -- "$ic" run "$tmp/a$w.json" "$root/examples/shared_top.json"
  expect 0 "EXACT INTERPOLATION" -- "$ic" run "$tmp/a$w.json" "$root/examples/shared_top.json" --evaluator reference
done
expect 2 "at least 3" -- "$ic" construct "$root/examples/shared_top.json" -o "$tmp/w2.json" --max-ff-width 2
expect 0 "EXACT INTERPOLATION" -- "$ic" run "$root/examples/hand/model.json" "$root/examples/hand/dataset.json"
sed 's/"rho": "0"/"rho": "1"/' "$root/examples/hand/model.json" > "$tmp/hand_rho1.json"
expect 1 "first mismatch: sequence 0" -- "$ic" run "$tmp/hand_rho1.json" "$root/examples/hand/dataset.json"
echo '{"format": "interpcert-dataset", "version": 1, "d": 1, "sequences": [{"input": [["1"]], "output": [["2"]]}]}' > "$tmp/d1.json"
expect 2 "has d = 2" -- "$ic" run "$root/examples/hand/model.json" "$tmp/d1.json"
sed 's/"attention": "hardmax"/"attention": "softmax", "beta": "10"/' "$root/examples/hand/model.json" > "$tmp/soft.json"
expect 0 "certified bound: max |output - target| <=" -- "$ic" run "$tmp/soft.json" "$root/examples/hand/dataset.json"
expect 0 "WITHIN" -- "$ic" run "$tmp/soft.json" "$root/examples/hand/dataset.json" --epsilon 1/1000
expect 1 "NOT CERTIFIED WITHIN" -- "$ic" run "$tmp/soft.json" "$root/examples/hand/dataset.json" --epsilon 1e-100
# certify --softmax: at a given beta, and the least beta for an epsilon; the checker's own route agrees.
expect 0 "claim: max |output - target| <=" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/s.json" --softmax --beta 10
expect 0 "VERIFIED (6 claims)" -- "$chk" "$tmp/s.json" "$root/examples/shared_top.json"
expect 0 "least beta" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/e.json" --softmax --epsilon 1e-30
expect 0 "VERIFIED (6 claims)" -- "$chk" "$tmp/e.json" "$root/examples/shared_top.json"
expect 0 "claim: EXACT interpolation under softmax" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/x.json" --softmax --exact
expect 0 "VERIFIED (6 claims)" -- "$chk" "$tmp/x.json" "$root/examples/shared_top.json"
expect 1 "NOT certified exact" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/y.json" --softmax --exact --beta 1/100
[[ ! -e "$tmp/y.json" ]] && ok || bad "a failed --exact wrote a certificate"
# --model-out writes the certified model, the one the certificate embeds, in every mode.
for mode in "" "--softmax --beta 10" "--softmax --exact"; do
  rm -f "$tmp/mo.model.json"
  expect 0 "wrote model" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/mo.json" --model-out "$tmp/mo.model.json" $mode
  digest=$("$ic" digest "$tmp/mo.model.json" 2>/dev/null | cut -d' ' -f1)
  [[ -n "$digest" ]] && grep -q "\"model\": {\"digest\": \"$digest\"" "$tmp/mo.json" && ok \
    || bad "certify $mode --model-out: the model written is not the one the certificate embeds"
done
grep -q '"attention": "softmax"' "$tmp/mo.model.json" && ok || bad "certify --softmax --exact --model-out wrote no softmax model"
expect 2 "exactly one of --beta" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/x.json" --softmax
expect 2 "need --softmax" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/x.json" --beta 3

# certify: byte-identical certificates, re-checked independently; the digest test vector.
expect 0 "wrote certificate" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/c1.json"
expect 0 "wrote certificate" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/c2.json"
cmp -s "$tmp/c1.json" "$tmp/c2.json" && ok || bad "certify is not deterministic"
expect 0 "VERIFIED (6 claims)" -- "$chk" "$tmp/c1.json" "$root/examples/shared_top.json"
expect 0 "VERIFIED (6 claims, structured evaluation --fast)" -- "$chk" --fast "$tmp/c1.json" "$root/examples/shared_top.json"
expect 0 "30461886a26c79f4c1b802e6fe92dcdf610fc69c73ae3d8dc33e86bb240b4bcf" -- "$ic" digest "$root/examples/two_sequences.json"
# The bundled example certificates (proofs/examples) still verify.
expect 0 "VERIFIED" -- "$chk" "$root/proofs/examples/shared_top.cert.json" "$root/examples/shared_top.json"
expect 0 "VERIFIED" -- "$chk" "$root/proofs/examples/two_sequences.cert.json" "$root/examples/two_sequences.json"
expect 0 "VERIFIED" -- "$chk" "$root/proofs/examples/hand.cert.json" "$root/examples/hand/dataset.json"
expect 2 "usage" -- "$chk" only-one-argument
expect 0 "usage" -- "$chk" --help
expect 0 "certify" -- "$ic" --help

# Sharding: three shards of run and of the checker, merged; a missing or foreign shard is refused.
"$ic" construct "$root/examples/shared_top.json" -o "$tmp/m.json" >/dev/null
for i in 0 1 2; do
  expect 0 "EXACT INTERPOLATION" -- "$ic" run "$tmp/m.json" "$root/examples/shared_top.json" --shard $i/3 --verdict-out "$tmp/r$i.json"
  expect 0 "VERIFIED" -- "$chk" "$tmp/c1.json" "$root/examples/shared_top.json" --shard $i/3 --verdict-out "$tmp/k$i.json"
done
expect 0 "VERIFIED: all 3 shards of \`run\`" -- "$ic" merge "$tmp/r0.json" "$tmp/r1.json" "$tmp/r2.json"
expect 0 "VERIFIED: all 3 shards of \`check\`" -- "$ic" merge "$tmp/k0.json" "$tmp/k1.json" "$tmp/k2.json"
expect 1 "shard 2/3 is missing" -- "$ic" merge "$tmp/r0.json" "$tmp/r1.json"
expect 1 "another verification" -- "$ic" merge "$tmp/r0.json" "$tmp/k1.json" "$tmp/r2.json"
expect 1 "appears twice" -- "$ic" merge "$tmp/r0.json" "$tmp/r0.json" "$tmp/r2.json"
expect 2 "expected I/K" -- "$ic" run "$tmp/m.json" "$root/examples/shared_top.json" --shard 3/3

# explain: the walk-through, one step, the HTML page, and the stop at the preconditions.
expect 0 "CONCLUSION: by Lemmas 1-7" -- "$ic" explain "$root/examples/shared_top.json"
expect 0 "Step 2. Key direction" -- "$ic" explain "$root/examples/shared_top.json" --step 2
expect 2 "this explanation has" -- "$ic" explain "$root/examples/shared_top.json" --step 99
expect 0 "wrote" -- "$ic" explain "$root/examples/shared_top.json" --html "$tmp/ex.html"
grep -q "<svg" "$tmp/ex.html" && ok || bad "explain --html wrote no figure"
expect 0 "Why H3 matters" -- "$ic" explain "$root/examples/outside.json"
expect 0 "Causal refinement rounds" -- "$ic" explain --causal "$root/examples/causal_order.json"
expect 1 "O2 FOUND" -- "$ic" explain "$root/examples/impossible.json"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
