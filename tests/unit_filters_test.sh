#!/usr/bin/env bash
# The unit-test program runs once per test name with a --source-file filter (tests/meson.build).
# Checks that those filters select every test case of the program exactly once: each selects at
# least one, the counts add up to the program's total, and the filters together select them all.
set -euo pipefail
exe=$1
shift
count() { "$exe" --count "$@" | sed -n 's/.*unskipped test cases passing the current filters: \([0-9]*\).*/\1/p'; }
total=$(count)
sum=0
for filter in "$@"; do
  n=$(count "$filter")
  if [ -z "$n" ] || [ "$n" -eq 0 ]; then
    echo "FAIL: $filter selects no test case (a file not in the program, or a misspelled name)"
    exit 1
  fi
  sum=$((sum + n))
done
patterns=("${@#--source-file=}")
all=$(IFS=,; count "--source-file=${patterns[*]}")
echo "test cases: $total in the program; $sum over the $# filters; $all selected by all filters together"
if [ "$total" -ne "$sum" ] || [ "$total" -ne "$all" ]; then
  echo "FAIL: the filters must select every test case exactly once"
  exit 1
fi
