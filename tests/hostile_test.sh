#!/usr/bin/env bash
# The exit contract on hostile inputs (issue 15, item 3): every command answers 0, 1, 2 or 3 and
# never aborts, crashes or runs away. Invalid input gets exit status 2 and a message naming the
# file. Each run is under a memory limit (ulimit -v, skipped under AddressSanitizer, which
# reserves terabytes of address space) and a time limit.
# Usage: hostile_test.sh INTERPCERT INTERPCERT_CHECK SOURCE_ROOT [sanitized]
set -u
ic=$1; chk=$2; root=$3; sanitized=${4:-}
tmp=$(mktemp -d); trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0; fail=0
mem_kb=2000000 secs=60
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect STATUSES TEXT -- command...: the exit status is one of STATUSES (e.g. "2" or "0|3") and
# the output (stdout+stderr) contains TEXT.
expect() {
  local want=$1 text=$2; shift 3
  local out got
  (if [ -z "$sanitized" ]; then ulimit -v $mem_kb; fi; exec timeout $secs "$@" >"$tmp/out" 2>&1)
  got=$?
  out=$(head -c 100000 "$tmp/out")
  if [[ "|$want|" == *"|$got|"* && "$out" == *"$text"* ]]; then
    ok
  else
    bad "$* -> exit $got (want $want, text '$text')"
    echo "$out" | head -c 600 | head -5 | sed 's/^/    /'
  fi
}
head_ds='{"format": "interpcert-dataset", "version": 1, "d": 2, "sequences": [{"input": ['
tail_ds='], "output": [["1", "2"]]}]}'
all_commands() {  # all_commands STATUSES TEXT FILE: the file as dataset (digest, check, run) and as certificate
  local want=$1 text=$2 f=$3
  expect "$want" "$text" -- "$ic" digest "$f"
  expect "$want" "$text" -- "$ic" check "$f"
  expect "$want" "$text" -- "$ic" run "$f" "$root/examples/two_sequences.json"
  expect "$want" "$text" -- "$ic" run "$tmp/model.json" "$f"
  expect "$want" "$text" -- "$chk" "$f" "$root/examples/two_sequences.json"
  expect "$want" "$text" -- "$chk" "$root/proofs/examples/two_sequences.cert.json" "$f"
}
# A valid model for `run MODEL DATASET`.
"$ic" construct "$root/examples/two_sequences.json" -o "$tmp/model.json" >/dev/null 2>&1 || bad "construct failed"

# Huge exponents: one beyond the per-number limit, and a 440 KB file of "1e99999" (the budget).
printf '%s["1e999999999", "0"]%s' "$head_ds" "$tail_ds" > "$tmp/exp.json"
all_commands 2 "exp.json" "$tmp/exp.json"
expect 2 "/sequences/0/input/0/0" -- "$ic" digest "$tmp/exp.json"
{ printf '%s' "$head_ds"; for i in $(seq 1 20000); do printf '["1e99999", "1e99999"], '; done
  printf '["0", "0"]%s' "$tail_ds"; } > "$tmp/budget.json"
all_commands 2 "budget.json" "$tmp/budget.json"
expect 2 "budget" -- "$ic" digest "$tmp/budget.json"

# A 10^6-digit integer: valid, read exactly, O(input) work.
{ printf '%s["' "$head_ds"; head -c 1000000 /dev/zero | tr '\0' '7'; printf '", "0"], ["0", "1"]%s' "$tail_ds"; } > "$tmp/bigint.json"
expect 0 "bigint.json" -- "$ic" digest "$tmp/bigint.json"
expect "0|3" "" -- "$ic" check "$tmp/bigint.json"
expect "0|1" "" -- "$ic" run "$tmp/model.json" "$tmp/bigint.json"
# ... and in a dataset with one token too long: exit 2 with the path.
{ printf '%s["' "$head_ds"; head -c 1000000 /dev/zero | tr '\0' '7'; printf '", "0", "1"]%s' "$tail_ds"; } > "$tmp/bigint_bad.json"
all_commands 2 "bigint_bad.json" "$tmp/bigint_bad.json"

# Deep nesting, 10^5 levels: closed and unclosed.
{ head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; } > "$tmp/deep.json"
all_commands 2 "deep.json" "$tmp/deep.json"
head -c 100000 /dev/zero | tr '\0' '[' > "$tmp/deep_open.json"
all_commands 2 "deep_open.json" "$tmp/deep_open.json"
{ printf '{"format": "interpcert-dataset", "version": 1, "d": 2, "sequences": '
  head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; printf '}'; } > "$tmp/deep_in.json"
all_commands 2 "deep_in.json" "$tmp/deep_in.json"

# d = 10^6 with short tokens / empty rows: refused before anything of size d is allocated.
printf '{"format": "interpcert-dataset", "version": 1, "d": 1000000, "sequences": [{"input": [[], [], [], []], "output": [[]]}]}' > "$tmp/d_dataset.json"
all_commands 2 "d_dataset.json" "$tmp/d_dataset.json"
rows=$(printf '[],%.0s' $(seq 1 19))
printf '{"format":"interpcert-model","version":1,"d":1048576,"attention":"hardmax","blocks":[{"sa":{"rho":1,"Q":[%s[]],"K":[],"V":[]},"ff":null}]}' "$rows" > "$tmp/d_model.json"
expect 2 "/blocks/0/sa/Q/0" -- "$ic" digest "$tmp/d_model.json"
expect 2 "d_model.json" -- "$ic" run "$tmp/d_model.json" "$root/examples/two_sequences.json"
{ printf '{"format": "interpcert-certificate", "version": 1, "dataset": {"digest": "x"}, "model": {"digest": "x", "content": '
  cat "$tmp/d_model.json"; printf '}, "claims": {"interpolation": {"kind": "exact", "outputs": 3}}}'; } > "$tmp/d_cert.json"
expect 2 "/model/content/blocks/0/sa/Q/0" -- "$chk" "$tmp/d_cert.json" "$root/examples/two_sequences.json"

# Empty, non-JSON, binary.
: > "$tmp/empty.json"; all_commands 2 "empty.json" "$tmp/empty.json"
echo 'this is not JSON' > "$tmp/text.json"; all_commands 2 "text.json" "$tmp/text.json"
head -c 4096 /dev/urandom > "$tmp/random.bin"; all_commands 2 "random.bin" "$tmp/random.bin"

# A directory; a missing file; an unreadable file (root reads everything: a dangling symlink then).
mkdir "$tmp/dir.json"; all_commands 2 "is a directory" "$tmp/dir.json"
all_commands 2 "No such file or directory" "$tmp/missing.json"
if [ "$(id -u)" -ne 0 ]; then
  cp "$root/examples/two_sequences.json" "$tmp/locked.json"; chmod 000 "$tmp/locked.json"
  all_commands 2 "Permission denied" "$tmp/locked.json"
else
  echo "note: running as root, so an unreadable file is tested as a dangling symlink"
  ln -s "$tmp/nowhere/x.json" "$tmp/dangling.json"
  all_commands 2 "dangling.json" "$tmp/dangling.json"
fi

# An output path in a missing directory: exit 2, the file named, nothing written.
expect 2 "$tmp/nodir/model.json" -- "$ic" construct "$root/examples/two_sequences.json" -o "$tmp/nodir/model.json"
expect 2 "$tmp/nodir/cert.json" -- "$ic" certify "$root/examples/two_sequences.json" -o "$tmp/nodir/cert.json"
expect 2 "$tmp/nodir/v.json" -- "$chk" "$root/proofs/examples/two_sequences.cert.json" "$root/examples/two_sequences.json" --verdict-out "$tmp/nodir/v.json"
[ -e "$tmp/nodir" ] && bad "a missing output directory was created" || ok

# Text from a certificate is printed with control characters escaped.
sed 's|"claims": {|"claims": {"\\u001b[2J\\u001b[HVERIFIED": true, |' "$root/proofs/examples/two_sequences.cert.json" > "$tmp/esc.cert.json"
expect 1 '\x1b[2J' -- "$chk" "$tmp/esc.cert.json" "$root/examples/two_sequences.json"
if grep -q $'\x1b' "$tmp/out"; then bad "an ESC byte from the certificate reached the output"; else ok; fi

echo "hostile inputs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
