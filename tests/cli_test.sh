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
# IEEE floating point (proofs/float-bound.md): run --float bounds every round-to-nearest evaluation.
"$ic" construct "$root/examples/shared_top.json" -o "$tmp/top.model.json" -q >/dev/null 2>&1
expect 0 "bound computed with outward rounding" -- "$ic" run "$tmp/top.model.json" "$root/examples/shared_top.json" --float binary64 --epsilon 1/1000
expect 1 "is not enough" -- "$ic" run "$tmp/top.model.json" "$root/examples/shared_top.json" --float binary64 --epsilon 1e-12
"$ic" construct "$root/examples/twenty_sequences.json" -o "$tmp/twenty.model.json" -q >/dev/null 2>&1
expect 1 "UNSTABLE SELECTION: block" -- "$ic" run "$tmp/twenty.model.json" "$root/examples/twenty_sequences.json" --float binary32 --epsilon 1
expect 2 "--float" -- "$ic" run "$tmp/top.model.json" "$root/examples/shared_top.json" --float binary16
expect 0 "claim: in IEEE binary64" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/f.json" --float binary64 --epsilon 1/1000
expect 0 "VERIFIED (6 claims)" -- "$chk" "$tmp/f.json" "$root/examples/shared_top.json"
expect 1 "no certificate written" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/g.json" --float binary64 --epsilon 1e-12
[[ ! -e "$tmp/g.json" ]] && ok || bad "certify --float wrote a certificate it could not establish"
# Softmax models in IEEE floating point (float-bound.md "Softmax models"): exp assumed K ulps.
expect 0 "claim: in IEEE binary64 (any round-to-nearest evaluation, exp accurate to 2 ulps)" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/sf.json" --model-out "$tmp/sf.model.json" --softmax --beta 4 --exact --float binary64 --epsilon 1/1000000
expect 0 "interpolation: VERIFIED (every IEEE binary64" -- "$chk" "$tmp/sf.json" "$root/examples/shared_top.json"
expect 0 "assuming exp is accurate to 2 ulps" -- "$ic" run "$tmp/sf.model.json" "$root/examples/shared_top.json" --float binary64 --epsilon 1/1000000
expect 0 "assuming exp is accurate to 7 ulps" -- "$ic" run "$tmp/sf.model.json" "$root/examples/shared_top.json" --float binary64 --exp-ulps 7
expect 1 "NOT CERTIFIED WITHIN" -- "$ic" run "$tmp/sf.model.json" "$root/examples/shared_top.json" --float binary64 --epsilon 1e-20
expect 2 "--exp-ulps: applies to softmax models only" -- "$ic" run "$tmp/top.model.json" "$root/examples/shared_top.json" --float binary64 --exp-ulps 3
# K = 0 would claim a correctly rounded exp, which no library has (e^y is irrational): refused.
expect 2 "--exp-ulps" -- "$ic" run "$tmp/sf.model.json" "$root/examples/shared_top.json" --float binary64 --exp-ulps 0
expect 2 "--exp-ulps: needs --float" -- "$ic" run "$tmp/sf.model.json" "$root/examples/shared_top.json" --exp-ulps 3
expect 2 "--float takes --epsilon E, and --softmax --beta B" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/sg.json" --softmax --epsilon 1/1000 --float binary64
expect 0 "after  (float construction): precision needed" -- "$ic" construct "$root/examples/shared_top.json" -o "$tmp/ff.json" --for-float binary64
# The float construction (proofs/float-construction.md): a float evaluation is exact, bound 0, and an
# independent Python evaluation (tests/float_eval.py: Python floats, binary32 emulated) agrees.
for f in binary64 binary32; do
  for e in shared_top twenty_sequences; do
    expect 0 "relative bound 0" -- "$ic" construct "$root/examples/$e.json" -o "$tmp/$e.$f.json" --for-float $f
    expect 0 "CERTIFIED WITHIN epsilon = 0 in $f" -- "$ic" run "$tmp/$e.$f.json" "$root/examples/$e.json" --float $f --epsilon 0
    if command -v python3 >/dev/null; then
      expect 0 "measured max |fl(output) - target| = 0 " -- python3 "$root/tests/float_eval.py" "$tmp/$e.$f.json" "$root/examples/$e.json" $f 0
    fi
  done
done
expect 1 "measured max |fl(output) - target| = " -- python3 "$root/tests/float_eval.py" "$tmp/twenty.model.json" "$root/examples/twenty_sequences.json" binary32 0
expect 0 "claim: in IEEE binary32" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/f32.json" --for-float binary32 --float binary32 --epsilon 1e-9
expect 0 "<= the claimed 0 over all 4 output tokens" -- "$chk" "$tmp/f32.json" "$root/examples/shared_top.json"
expect 2 "at least 4 neurons" -- "$ic" construct "$root/examples/shared_top.json" -o "$tmp/ff3.json" --for-float binary64 --max-ff-width 3
printf '{"format":"interpcert-dataset","version":1,"d":2,"sequences":[{"input":[["16777216","0"],["16777217","0"]],"output":[["1","1"],["2","2"]]}]}' > "$tmp/b32.json"
expect 1 "hold the same token in the same context after rounding to binary32 but need different targets" -- "$ic" construct "$tmp/b32.json" -o "$tmp/b32m.json" --for-float binary32
expect 0 "verification: all 2 output tokens equal their targets" -- "$ic" construct "$tmp/b32.json" -o "$tmp/b32m.json" --for-float binary64
# Tokens that merge after rounding but need no different targets are no obstruction.
printf '{"format":"interpcert-dataset","version":1,"d":2,"sequences":[{"input":[["16777216","0"],["16777217","0"]],"output":[["1","1"]]}]}' > "$tmp/b32b.json"
expect 0 "verification: the one output token equals its target" -- "$ic" construct "$tmp/b32b.json" -o "$tmp/b32bm.json" --for-float binary32
# Causal data: the obstruction is about rounded prefixes, not sets (examples/causal_order.json needs
# different targets for the same set of tokens in different orders: no obstruction in binary64).
expect 0 "not analysed: causal (masked) models" -- "$ic" construct --causal "$root/examples/causal_order.json" -o "$tmp/cf.json" --for-float binary64
# Short decimals (0.1 is not a float): a rescale-and-snap prefix puts the data on an integer grid
# (proofs/float-construction.md); certified within a few ulps of the targets, and the independent
# Python evaluation stays within that bound.
printf '{"format":"interpcert-dataset","version":1,"d":2,"sequences":[{"input":[["-1.3","0.7"],["0.1","2.5"]],"output":[["3.3","-0.1"]]},{"input":[["4.2","-1.1"],["0.1","2.5"]],"output":[["-2.2","0.4"]]},{"input":[["4.2","-1.1"],["-1.3","0.7"],["0.1","2.5"]],"output":[["1.9","1.9"]]}]}' > "$tmp/dec.json"
for f in binary64 binary32; do
  expect 0 "3 blocks rescale to an integer grid for floating point" -- "$ic" construct "$tmp/dec.json" -o "$tmp/dec.$f.json" --for-float $f
  expect 0 "CERTIFIED WITHIN epsilon = 1/1000000 in $f" -- "$ic" run "$tmp/dec.$f.json" "$tmp/dec.json" --float $f --epsilon 1e-6
  if command -v python3 >/dev/null; then
    bound=$([[ $f == binary64 ]] && echo 1/1000000000000 || echo 1/1000000)
    expect 0 "measured max |fl(output) - target| = " -- python3 "$root/tests/float_eval.py" "$tmp/dec.$f.json" "$tmp/dec.json" $f $bound
  fi
done
expect 0 "block_bound not stated: 3 blocks rescale to an integer grid for floating point" -- "$ic" certify "$tmp/dec.json" -o "$tmp/dec.cert.json" --for-float binary64 --float binary64 --epsilon 1e-6
expect 0 "VERIFIED (6 claims)" -- "$chk" "$tmp/dec.cert.json" "$tmp/dec.json"

# certify: byte-identical certificates, re-checked independently; the digest test vector.
expect 0 "wrote certificate" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/c1.json"
expect 0 "wrote certificate" -- "$ic" certify "$root/examples/shared_top.json" -o "$tmp/c2.json"
cmp -s "$tmp/c1.json" "$tmp/c2.json" && ok || bad "certify is not deterministic"
expect 0 "VERIFIED (6 claims)" -- "$chk" "$tmp/c1.json" "$root/examples/shared_top.json"
expect 0 "VERIFIED (6 claims, structured evaluation --fast)" -- "$chk" --fast "$tmp/c1.json" "$root/examples/shared_top.json"
# INTERPCERT_PHASE_TIMES: the checker's per-phase times on stderr, stdout unchanged; silent without it.
"$chk" --fast "$tmp/c1.json" "$root/examples/shared_top.json" >"$tmp/pt0.out" 2>"$tmp/pt0.err"
INTERPCERT_PHASE_TIMES=1 "$chk" --fast "$tmp/c1.json" "$root/examples/shared_top.json" >"$tmp/pt1.out" 2>"$tmp/pt1.err"
cmp -s "$tmp/pt0.out" "$tmp/pt1.out" && ok || bad "INTERPCERT_PHASE_TIMES changed the checker's stdout"
[[ ! -s "$tmp/pt0.err" ]] && ok || bad "the checker wrote on stderr without INTERPCERT_PHASE_TIMES"
for ph in "read certificate" "read dataset" "model parse" "fast: tabulation" "forward pass" "counts, |theta|^2"; do
  grep -q "^phase $ph " "$tmp/pt1.err" && ok || bad "INTERPCERT_PHASE_TIMES: no line for phase $ph"
done
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
# The verdict's subject is the SHA-256 of the certificate bytes checked, also when they come from a pipe.
"$chk" <(cat "$tmp/c1.json") "$root/examples/shared_top.json" --verdict-out "$tmp/kpipe.json" >/dev/null 2>&1
grep -q "\"subject\": \"$(sha256sum < "$tmp/c1.json" | cut -d' ' -f1)\"" "$tmp/kpipe.json" && ok || bad "a verdict on a piped certificate names another subject"
expect 0 "VERIFIED: all 3 shards of \`run\`" -- "$ic" merge "$tmp/r0.json" "$tmp/r1.json" "$tmp/r2.json"
expect 0 "VERIFIED: all 3 shards of \`check\` verified, 4 output" -- "$ic" merge "$tmp/k0.json" "$tmp/k1.json" "$tmp/k2.json"
expect 1 "shard 2/3 is missing" -- "$ic" merge "$tmp/r0.json" "$tmp/r1.json"
expect 1 "another verification" -- "$ic" merge "$tmp/r0.json" "$tmp/k1.json" "$tmp/r2.json"
expect 1 "appears twice" -- "$ic" merge "$tmp/r0.json" "$tmp/r0.json" "$tmp/r2.json"
# The outputs the shards checked must add up to the dataset's sum m_j (4 here), and every verdict
# must state that total: a shard that checked fewer (or more) outputs than its sequences hold is
# refused even though each shard says VERIFIED.
grep -q '"dataset_outputs": 4' "$tmp/k0.json" && grep -q '"dataset_outputs": 4' "$tmp/r1.json" && ok || bad "verdicts do not state sum m_j = 4"
for f in r k; do
  o=$(sed 's/.*"outputs": \([0-9]*\).*/\1/' "$tmp/${f}1.json")
  sed "s/\"outputs\": $o,/\"outputs\": $((o - 1)),/" "$tmp/${f}1.json" > "$tmp/${f}1less.json"
  sed "s/\"outputs\": $o,/\"outputs\": $((o + 1)),/" "$tmp/${f}1.json" > "$tmp/${f}1more.json"
  expect 1 "NOT VERIFIED: the shards checked 3 output tokens in all, the dataset has 4 (sum m_j)" -- "$ic" merge "$tmp/${f}0.json" "$tmp/${f}1less.json" "$tmp/${f}2.json"
  expect 1 "the shards checked 5 output tokens in all, the dataset has 4" -- "$ic" merge "$tmp/${f}0.json" "$tmp/${f}1more.json" "$tmp/${f}2.json"
  sed 's/, "dataset_outputs": 4//' "$tmp/${f}2.json" > "$tmp/${f}2old.json"
  expect 1 "$tmp/${f}2old.json does not state the dataset's total of output tokens" -- "$ic" merge "$tmp/${f}0.json" "$tmp/${f}1.json" "$tmp/${f}2old.json"
  sed 's/"dataset_outputs": 4/"dataset_outputs": 5/' "$tmp/${f}2.json" > "$tmp/${f}2other.json"
  expect 1 "states another total of output tokens" -- "$ic" merge "$tmp/${f}0.json" "$tmp/${f}1.json" "$tmp/${f}2other.json"
  sed 's/"dataset_outputs": 4/"dataset_outputs": "4"/' "$tmp/${f}2.json" > "$tmp/${f}2bad.json"
  expect 2 "/dataset_outputs" -- "$ic" merge "$tmp/${f}0.json" "$tmp/${f}1.json" "$tmp/${f}2bad.json"
done
expect 2 "expected I/K" -- "$ic" run "$tmp/m.json" "$root/examples/shared_top.json" --shard 3/3

# explain: the walk-through, one step, the HTML page, and the stop at the preconditions.
expect 0 "CONCLUSION: by Lemmas 1-7" -- "$ic" explain "$root/examples/shared_top.json"
expect 0 "Step 3 [key]. Key direction" -- "$ic" explain "$root/examples/shared_top.json" --step key
expect 0 "Step 7 [code:1]" -- "$ic" explain "$root/examples/shared_top.json" --step code
expect 0 "promote:1  Promotions after code layer 1" -- "$ic" explain "$root/examples/shared_top.json" --list-steps
expect 2 "no step \"0\" in this explanation" -- "$ic" explain "$root/examples/shared_top.json" --step 0
expect 2 "no step \"nosuch\"" -- "$ic" explain "$root/examples/shared_top.json" --step nosuch
expect 0 "a-priori bound: max" -- "$ic" explain "$root/examples/shared_top.json" --softmax --beta 1 --step softmax
expect 2 "go together" -- "$ic" explain "$root/examples/shared_top.json" --softmax
expect 0 "wrote" -- "$ic" explain "$root/examples/shared_top.json" --html "$tmp/ex.html"
grep -q '"frames":' "$tmp/ex.html" && grep -q 'id="slider"' "$tmp/ex.html" && ok || bad "explain --html wrote no page"
expect 0 "Why H3 matters" -- "$ic" explain "$root/examples/outside.json"
expect 0 "Causal refinement rounds" -- "$ic" explain --causal "$root/examples/causal_order.json"
# IEEE float analysis of a causal model: refused with the reason (never run as if unmasked).
"$ic" construct --causal -q "$root/examples/causal_order.json" -o "$tmp/causal_model.json" >/dev/null
expect 1 "NOT SUPPORTED: causal (masked) models" -- "$ic" run "$tmp/causal_model.json" "$root/examples/causal_order.json" --float binary64
expect 1 "causal (masked) models: the floating-point analysis covers unmasked attention only" -- "$ic" certify --causal -q "$root/examples/causal_order.json" -o "$tmp/causal_float.json" --float binary64 --epsilon 1e-6
[[ ! -e "$tmp/causal_float.json" ]] && ok || bad "certify --float wrote a certificate for a causal model"
expect 1 "O2 FOUND" -- "$ic" explain "$root/examples/impossible.json"

# The checker's command line: every option parsed inside the error handling (exit 2 and one error
# line, never an abort), the shared --shard parser, the usage line naming every option.
c1="$tmp/c1.json"; sd="$root/examples/shared_top.json"
expect 2 "error: --threads expects an integer" -- "$chk" --threads abc "$c1" "$sd"
expect 2 "error: --threads expects an integer" -- "$chk" --threads -3 "$c1" "$sd"
expect 2 "error: --threads expects an integer" -- "$chk" --threads 99999999999999999999999 "$c1" "$sd"
expect 2 "error: --threads needs a value" -- "$chk" "$c1" "$sd" --threads
expect 2 "expected I/K" -- "$chk" --shard 1x/2 "$c1" "$sd"
expect 2 "expected I/K" -- "$chk" --shard 1.0/2 "$c1" "$sd"
expect 2 "expected I/K" -- "$chk" --shard 2/2 "$c1" "$sd"
expect 2 "error: missing the DATASET argument" -- "$chk" "$c1"
expect 2 "error: missing the CERT and DATASET arguments" -- "$chk"
expect 2 "error: unexpected argument" -- "$chk" "$c1" "$sd" extra
expect 2 "error: unknown option --bogus" -- "$chk" --bogus "$c1" "$sd"
"$chk" $'--x\e[2J' "$c1" "$sd" 2>&1 | grep -q $'\e' && bad "the checker echoed a raw ESC from the command line" || ok
for opt in --threads --shard --verdict-out --fast --quiet CERT DATASET; do
  "$chk" --bogus 2>&1 | grep "^usage:" | grep -q -- "$opt" && ok || bad "the checker's usage line lacks $opt"
done
expect 0 "VERIFIED (6 claims)" -- "$chk" --threads 0 "$c1" "$sd"
expect 0 "interpcert-check 0." -- "$chk" --version
expect 0 "claim: max |output - target| <=" -- "$ic" certify "$sd" -o "$tmp/s3.json" --softmax --beta 10
expect 2 "--fast: applies to certificates about hardmax models only" -- "$chk" --fast "$tmp/s3.json" "$sd"
n=$("$chk" -q "$c1" "$sd" | wc -l); [[ $n -eq 1 ]] && ok || bad "checker -q printed $n lines"

# interpcert --version, `interpcert help` and `interpcert help COMMAND` (the same text as --help).
expect 0 "interpcert 0." -- "$ic" --version
expect 0 "Subcommands:" -- "$ic" help
for c in check construct certify explain run merge digest; do
  [[ "$("$ic" help $c)" == "$("$ic" $c --help)" && -n "$("$ic" help $c)" ]] && ok || bad "interpcert help $c differs from $c --help"
done
expect 2 "no command \"bogus\"" -- "$ic" help bogus
expect 2 "interpcert: error: Could not convert: --threads" -- "$ic" run --threads abc "$root/examples/hand/model.json" "$root/examples/hand/dataset.json"

# run keeps its word: no verdict without --epsilon (softmax), options for the other kind of model
# refused rather than ignored, shard messages numbered as in the dataset, -q quiet on every command.
hm="$root/examples/hand/model.json"; hd="$root/examples/hand/dataset.json"
sed 's/"attention": "hardmax"/"attention": "softmax", "beta": "10"/' "$hm" > "$tmp/soft7.json"
expect 0 "result: no verdict asked" -- "$ic" run "$tmp/soft7.json" "$hd"
"$ic" help run | tr '\n' ' ' | grep -q "Without --epsilon no verdict is asked: exit 0" && ok || bad "run --help does not document the exit status without --epsilon"
grep -q "no verdict is asked" "$root/README.md" && ok || bad "README does not document run without --epsilon"
expect 2 "--epsilon: applies to softmax models only" -- "$ic" run "$hm" "$hd" --epsilon 1
expect 2 "--precision: applies to softmax models only" -- "$ic" run "$hm" "$hd" --precision 64
expect 2 "--shard: applies to hardmax models only" -- "$ic" run "$tmp/soft7.json" "$hd" --shard 0/2 --verdict-out "$tmp/v7.json"
[[ ! -e "$tmp/v7.json" ]] && ok || bad "run on a softmax model wrote a verdict"
expect 2 "--verdict-out: applies to hardmax models only" -- "$ic" run "$tmp/soft7.json" "$hd" --verdict-out "$tmp/v7.json"
expect 2 "--evaluator: applies to hardmax models only" -- "$ic" run "$tmp/soft7.json" "$hd" --evaluator reference
expect 2 "--precision: needs --softmax" -- "$ic" certify "$sd" -o "$tmp/p7.json" --precision 64
# certify never writes a certificate its checker refuses: --precision is capped like the checker (2^15).
for p in 1048576 32769; do
  expect 2 "--precision: expected 16 to 32768 bits (2^15 is the most a certificate may ask for, proofs/certificate-v1.md), got $p" -- "$ic" certify "$sd" -o "$tmp/p7.json" --softmax --beta 64 --precision $p
done
[[ ! -e "$tmp/p7.json" ]] && ok || bad "certify wrote a certificate at a precision over the cap"
grep -q "32768" "$root/proofs/certificate-v1.md" && ok || bad "the precision cap is not documented"
expect 0 "wrote certificate" -- "$ic" certify "$root/examples/two_sequences.json" -o "$tmp/p8.json" --softmax --beta 64 --precision 32768
expect 0 "at 32768 bits" -- "$chk" "$tmp/p8.json" "$root/examples/two_sequences.json"
sed 's|"output": \[\["3","-1"\], \["3","-1"\]\]|"output": [["3","-1"], ["3","-2"]]|' "$hd" > "$tmp/hd2.json"
expect 1 "first mismatch: sequence 2, target 1" -- "$ic" run "$hm" "$tmp/hd2.json"
expect 1 "first mismatch: sequence 2, target 1" -- "$ic" run "$hm" "$tmp/hd2.json" --shard 0/2
expect 1 "1 of 4 output tokens differs from its target" -- "$ic" run "$hm" "$tmp/hd2.json"
lines() { "$@" 2>&1 | wc -l; }
[[ $(lines "$ic" run -q "$hm" "$hd") -eq 1 ]] && ok || bad "run -q (hardmax) printed more than the result"
[[ $(lines "$ic" run -q "$tmp/soft7.json" "$hd") -eq 2 ]] && ok || bad "run -q (softmax) printed more than bound and result"
[[ $(lines "$ic" check -q "$sd") -eq 2 ]] && ok || bad "check -q printed more than the verdict"
expect 0 "INTERPOLABLE beyond" -- "$ic" check -q "$root/examples/outside.json"
out=$("$ic" construct -q "$sd" -o "$tmp/q7.json"); [[ "$out" == "wrote "* && $(echo "$out" | wc -l) -eq 1 ]] && ok || bad "construct -q: $out"
out=$("$ic" certify -q "$sd" -o "$tmp/q7c.json")
[[ "$out" == *"wrote certificate"* && "$out" != *"construction"* && "$out" != *"dataset:"* ]] && ok || bad "certify -q: $out"
out=$("$ic" certify -q "$sd" -o "$tmp/q7e.json" --softmax --epsilon 1e-30)
[[ "$out" == *"claim: max |output - target|"* && "$out" != *"beta = 1:"* ]] && ok || bad "certify -q --softmax: $out"
expect 1 "NOT certified exact" -- "$ic" certify -q "$sd" -o "$tmp/q7x.json" --softmax --exact --beta 1/100
expect 1 "INTERPOLATION IS IMPOSSIBLE" -- "$ic" construct -q "$root/examples/impossible.json" -o "$tmp/never.json"

# A file of the wrong kind says what it is; "d": 2.0 is a number that is not an integer.
expect 2 "$hm: this is a model, not a dataset" -- "$ic" check "$hm"
expect 2 "$hd: this is a dataset, not a model" -- "$ic" run "$hd" "$hd"
expect 2 "$c1: this is a certificate, not a dataset" -- "$ic" construct "$c1" -o "$tmp/k7.json"
expect 2 "$hd: this is a dataset, not a certificate" -- "$chk" "$hd" "$hd"
expect 2 "$c1: this is a certificate, not a shard verdict" -- "$ic" merge "$c1"
ds d20 '"d": 2,' '"d": 2.0,'
expect 2 "at /d: expected an integer (a JSON number without fraction or exponent, such as 2), found the number 2.0" -- "$ic" check "$tmp/d20.json"

# Plurals: a dataset of one sequence with one token; no "1 sequences", "1 blocks", "all 1 ...".
echo '{"format": "interpcert-dataset", "version": 1, "d": 2, "sequences": [{"input": [["1","0"]], "output": [["2","3"]]}]}' > "$tmp/one.json"
"$ic" certify "$tmp/one.json" -o "$tmp/one.cert.json" --model-out "$tmp/one.model.json" > "$tmp/one.out" 2>&1
"$ic" check "$tmp/one.json" >> "$tmp/one.out" 2>&1
"$ic" construct "$tmp/one.json" -o "$tmp/one.m2.json" >> "$tmp/one.out" 2>&1
"$ic" run "$tmp/one.model.json" "$tmp/one.json" >> "$tmp/one.out" 2>&1
"$ic" run "$tmp/one.model.json" "$tmp/one.json" --verdict-out "$tmp/one.v.json" >> "$tmp/one.out" 2>&1
"$ic" merge "$tmp/one.v.json" >> "$tmp/one.out" 2>&1
"$chk" "$tmp/one.cert.json" "$tmp/one.json" >> "$tmp/one.out" 2>&1
"$ic" explain "$tmp/one.json" >> "$tmp/one.out" 2>&1
"$ic" run "$tmp/one.model.json" "$tmp/one.json" --float binary64 >> "$tmp/one.out" 2>&1
"$ic" certify "$tmp/one.json" -o "$tmp/one.fcert.json" --float binary64 --epsilon 1 >> "$tmp/one.out" 2>&1
"$chk" "$tmp/one.fcert.json" "$tmp/one.json" >> "$tmp/one.out" 2>&1
"$ic" certify "$tmp/one.json" -o "$tmp/one.scert.json" --softmax --beta 16 >> "$tmp/one.out" 2>&1
"$chk" "$tmp/one.scert.json" "$tmp/one.json" >> "$tmp/one.out" 2>&1
grep -q "N = 1 sequence in Q^2, 1 token, sum m_j = 1 output token." "$tmp/one.out" && ok || bad "no singular summary in explain"
grep -q "(1 block, hardmax)" "$tmp/one.out" && ok || bad "no singular model summary in run --float"
grep -q "N = 1 sequence, d = 2, sum m_j = 1, 1 token)" "$tmp/one.out" && ok || bad "no singular dataset summary"
grep -q "the one output token equals its target" "$tmp/one.out" && ok || bad "no singular interpolation line"
bad_grammar=$(grep -E "(^|[^0-9./])1 (sequences|tokens|output tokens|output positions|blocks|claims|shards|steps|feed-forward layers|contexts)|all 1 " "$tmp/one.out")
[[ -z "$bad_grammar" ]] && ok || bad "plural after a count of 1: $bad_grammar"

# Lose nothing: an output equal to an input is refused (same device and inode), two outputs to
# one file are refused, a missing folder fails before anything is written.
cp "$root/examples/two_sequences.json" "$tmp/in8.json"; ln "$tmp/in8.json" "$tmp/in8link.json"
expect 2 "refusing to overwrite an input" -- "$ic" construct "$tmp/in8.json" -o "$tmp/in8.json"
expect 2 "refusing to overwrite an input" -- "$ic" construct "$tmp/in8.json" -o "$tmp/in8link.json"
expect 2 "refusing to overwrite an input" -- "$ic" certify "$tmp/in8.json" -o "$tmp/in8.json"
expect 2 "refusing to overwrite an input" -- "$ic" certify "$tmp/in8.json" -o "$tmp/c8.json" --model-out "$tmp/in8.json"
expect 2 "refusing to overwrite an input" -- "$ic" explain "$tmp/in8.json" --html "$tmp/in8.json"
cmp -s "$tmp/in8.json" "$root/examples/two_sequences.json" && ok || bad "an input was overwritten"
cp "$hm" "$tmp/m8.json"
expect 2 "refusing to overwrite an input" -- "$ic" run "$tmp/m8.json" "$hd" --verdict-out "$tmp/m8.json"
cmp -s "$tmp/m8.json" "$hm" && ok || bad "run --verdict-out overwrote the model"
cp "$c1" "$tmp/c8in.json"
expect 2 "refusing to overwrite an input" -- "$chk" "$tmp/c8in.json" "$sd" --verdict-out "$tmp/c8in.json"
cmp -s "$tmp/c8in.json" "$c1" && ok || bad "interpcert-check --verdict-out overwrote the certificate"
expect 2 "also the output of --output" -- "$ic" certify "$sd" -o "$tmp/same8.json" --model-out "$tmp/same8.json"
expect 2 "not an existing folder" -- "$ic" certify "$sd" -o "$tmp/c8.json" --model-out "$tmp/nodir/m.json"
mkdir "$tmp/adir"
expect 2 "is a folder" -- "$ic" certify "$sd" -o "$tmp/c8.json" --model-out "$tmp/adir"
[[ ! -e "$tmp/c8.json" && ! -e "$tmp/same8.json" ]] && ok || bad "certify wrote a certificate although an output failed"
ls "$tmp" | grep -q '\.tmp\.' && bad "temporary files left behind" || ok

# Thread creation failing (here: a 1 GB stack per thread under a 2.5 GB address-space limit)
# must not end the programs: the threads that started do the work.
# Under AddressSanitizer the address-space limit cannot hold (ASan reserves terabytes of shadow
# memory), so the sanitized build runs these without it (thread creation still succeeds or degrades).
if nm -C "$ic" 2>/dev/null | grep -q __asan_init; then
  c8t() { ( ulimit -s 1000000; "$@" ); }
else
  c8t() { ( ulimit -s 1000000; ulimit -v 2500000; "$@" ); }
fi
expect 0 "VERIFIED (6 claims)" -- c8t "$chk" --threads 1000 "$c1" "$sd"
expect 0 "EXACT INTERPOLATION" -- c8t "$ic" run --threads 1000 "$tmp/q7.json" "$sd"
expect 0 "wrote" -- c8t "$ic" construct --threads 1000 "$sd" -o "$tmp/t8.json"

# Echoed input is clipped: an unterminated 20 MB string and a never-closed 10^5-deep array give
# one short error line, not the token or the path.
python3 -c "open('$tmp/unterm.json','w').write('{\"format\": \"' + 'a' * 20000000)"
python3 -c "open('$tmp/deep.json','w').write('[' * 100000)"
for f in unterm deep; do
  expect 2 "bytes ...]" -- "$ic" check "$tmp/$f.json"
  n=$("$ic" check "$tmp/$f.json" 2>&1 | wc -c); [[ $n -lt 1000 ]] && ok || bad "$f.json: $n bytes of error message"
  n=$("$chk" "$tmp/$f.json" "$root/examples/two_sequences.json" 2>&1 | wc -c); [[ $n -lt 1000 ]] && ok || bad "checker on $f.json: $n bytes of error message"
done
rm -f "$tmp/unterm.json" "$tmp/deep.json"

# The spec lives in the repository (issue 15, item 5): every proofs/*.md that the README, the
# documents, the headers, the sources or a --help names exists, as does every .md a document in
# proofs/ links to; nothing points to the design folder outside the repository.
refs=$( { grep -rhoE "proofs/[A-Za-z0-9_-]+\.md" "$root/README.md" "$root/proofs" "$root/include" "$root/src"
          for c in check construct certify explain run merge digest; do "$ic" help $c; done; "$chk" --help
          grep -rhoE "\]\([A-Za-z0-9_-]+\.md" "$root/proofs" | sed 's/^](/proofs\//'; } 2>&1 | grep -oE "proofs/[A-Za-z0-9_-]+\.md" | sort -u)
[[ $(echo "$refs" | wc -l) -ge 6 ]] && ok || bad "fewer spec references than expected: $refs"
for r in $refs; do [[ -f "$root/$r" ]] && ok || bad "$r is referenced but not in the repository"; done
grep -rlE "shared/design|\.\./shared/" "$root/README.md" "$root/proofs" "$root/include" "$root/src" && bad "a reference points outside the repository" || ok

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
