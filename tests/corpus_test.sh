#!/usr/bin/env bash
# Runs interpcert-check on every row of tests/corpus/expectations.txt and requires the expected
# exit status and text. Usage: corpus_test.sh CHECKER CORPUS_DIR
set -u
checker=$1; dir=$2
pass=0; fail=0
while read -r cert dataset status text; do
  [[ -z "$cert" || "$cert" == \#* ]] && continue
  out=$("$checker" "$dir/$cert" "$dir/$dataset" 2>&1); got=$?
  if [[ $got -eq $status && "$out" == *"$text"* ]]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $cert with $dataset: expected exit $status and '$text', got exit $got:"
    echo "$out" | sed 's/^/    /'
  fi
done < "$dir/expectations.txt"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
