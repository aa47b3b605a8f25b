#!/usr/bin/env bash
# Byte-identical outputs of two builds (issue 13: a faster reader or compact storage must not change
# a single byte). Runs `interpcert digest`, `check`, `construct`, `certify` (plain, --for-float
# binary64, --float binary64 --epsilon) and `interpcert-check` (plain and --fast) with the OLD and
# the NEW binaries on every dataset in examples/ and tests/corpus/, on the corpus certificates
# (tampered ones included, with the datasets tests/corpus/expectations.txt pairs them with), and
# on generated datasets: integer hubs (bench_gen_dataset, if built) and seeded random datasets with
# int64-edge integers, integers beyond int64, decimals and fractions (the rational fallback).
# Compares stdout, stderr (with the binary's path and wall-clock times masked), exit status and every file written.
# Exit 0: all identical. 1: a difference (printed). Needs no network. Not a few seconds: the
# generated hub-200-20 (4,000 tokens, 401 blocks) runs certify --for-float binary64 (a dozen float
# analyses, each O(N^2 n): every token through every hat) and --float binary64 on each side; with
# builds before stop 26 that one dataset took over 20 minutes of CPU per side (stop 26: ~5 min).
# Usage: bash bench/compare_outputs.sh OLD_BUILD_DIR NEW_BUILD_DIR [SCRATCH_DIR]
#   e.g. git worktree add --detach /tmp/cmp-main main && meson setup /tmp/cmp-main/build &&
#        ninja -C /tmp/cmp-main/build interpcert interpcert-check &&
#        bash bench/compare_outputs.sh /tmp/cmp-main/build build
set -uo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] || { echo "usage: bash bench/compare_outputs.sh OLD_BUILD_DIR NEW_BUILD_DIR [SCRATCH_DIR]" >&2; exit 2; }
OLD=$(realpath "$1"); NEW=$(realpath "$2"); S=${3:-$(mktemp -d /tmp/interpcert-compare.XXXXXX)}
mkdir -p "$S/gen"
fail=0; runs=0

# run NAME ARGS... : runs `interpcert ARGS` (or interpcert-check when ARGS start with "check:")
# with both builds, each writing into its own directory; compares everything.
run() {
  local name=$1; shift
  local tool=interpcert
  if [[ $1 == check: ]]; then tool=interpcert-check; shift; fi
  for side in old new; do
    local bin=$OLD; [[ $side == new ]] && bin=$NEW
    local d=$S/$side/$name; rm -rf "$d"; mkdir -p "$d"
    (cd "$d" && "$bin/$tool" "$@" >stdout 2>stderr; echo $? >status)
    # Wall-clock times printed in the report are the one thing allowed to differ.
    sed -i -E "s#$bin#BIN#g; s/[0-9][0-9.e+-]* (s|ms)\b/TIME \1/g" "$d/stderr" "$d/stdout"
  done
  runs=$((runs + 1))
  if ! diff -r "$S/old/$name" "$S/new/$name" >"$S/diff.txt" 2>&1; then
    echo "DIFFERENT: $name ($tool $*)"; head -20 "$S/diff.txt"; fail=1
  fi
}

# Seeded random datasets exercising both token representations (python3, seed printed).
python3 - "$S/gen" <<'EOF'
import json, random, sys
out = sys.argv[1]
def num(r, kind):
    if kind == "int": return str(r.randint(-10**6, 10**6))
    if kind == "edge": return str(r.choice([2**63 - 1, -2**63, 2**63 - 2, -(2**63) + 1, 0, 1, -1]))
    if kind == "big": return str(r.choice([1, -1]) * r.randint(2**63, 2**80))
    if kind == "dec": return "%d.%02d" % (r.randint(-999, 999), r.randint(0, 99))
    if kind == "frac": return "%d/%d" % (r.randint(-99, 99), r.randint(1, 50))
    if kind == "intdec": return "%d.0" % r.randint(-50, 50)  # an integer written as a decimal
for seed in range(1, 9):
    r = random.Random(seed)
    kinds = [["int"], ["edge", "int"], ["big", "int"], ["dec"], ["frac", "int"], ["intdec", "int"],
             ["int", "dec", "frac", "big", "edge"], ["int"]][seed - 1]
    d = r.randint(2, 5); seqs = []
    for j in range(r.randint(3, 12)):
        # A sequence is either all one kind or mixed, so some stay int64 and some do not.
        ks = [r.choice(kinds)] if r.random() < 0.5 else kinds
        n = r.randint(1, 6)
        seqs.append({"input": [[num(r, r.choice(ks)) for _ in range(d)] for _ in range(n)],
                     "output": [[str(r.randint(-9, 9)) for _ in range(d)]]})
    json.dump({"format": "interpcert-dataset", "version": 1, "d": d, "readout": "last",
               "sequences": seqs}, open("%s/random-%d.json" % (out, seed), "w"), indent=1)
    print("generated random-%d.json (seed %d, kinds %s)" % (seed, seed, kinds))
EOF
if [[ -x $NEW/bench/bench_gen_dataset ]]; then
  "$NEW/bench/bench_gen_dataset" hub 50 10 16 2 "$S/gen/hub-50-10.json"
  "$NEW/bench/bench_gen_dataset" hub 200 20 8 2 "$S/gen/hub-200-20.json"
fi

datasets=(examples/*.json examples/hand/dataset.json tests/corpus/*.dataset.json "$S"/gen/*.json)
for ds in "${datasets[@]}"; do
  ds=$(realpath "$ds"); b=$(basename "$(dirname "$ds")")-$(basename "$ds" .json)
  run "$b-digest" digest "$ds"
  run "$b-digest-text" digest --text "$ds"
  run "$b-check" check "$ds"
  run "$b-construct" construct "$ds" -o model.json
  run "$b-certify" certify "$ds" -o cert.json --model-out model.json
  run "$b-certify-forfloat" certify "$ds" --for-float binary64 -o cert.json
  run "$b-certify-float" certify "$ds" --float binary64 --epsilon 1/1000 -o cert.json
  run "$b-certify-causal" certify "$ds" --causal -o cert.json
  # The checker on the certificate each build wrote (identical if the certify runs were).
  if [[ -s $S/new/$b-certify/cert.json ]]; then
    run "$b-checker" check: "$S/new/$b-certify/cert.json" "$ds"
    run "$b-checker-fast" check: --fast "$S/new/$b-certify/cert.json" "$ds"
  fi
  if [[ -s $S/new/$b-certify-float/cert.json ]]; then
    run "$b-checker-float" check: "$S/new/$b-certify-float/cert.json" "$ds"
  fi
done
while read -r cert ds _; do
  [[ $cert == \#* || -z $cert ]] && continue
  c=$(realpath "tests/corpus/$cert"); d=$(realpath "tests/corpus/$ds")
  run "corpus-$cert-$ds" check: "$c" "$d"
  run "corpus-$cert-$ds-fast" check: --fast "$c" "$d"
done < tests/corpus/expectations.txt

echo "$runs runs compared (old $OLD, new $NEW; outputs under $S)"
if ((fail)); then echo "compare_outputs: DIFFERENCES"; exit 1; fi
echo "compare_outputs: all byte-identical"
