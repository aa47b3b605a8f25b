#!/usr/bin/env bash
# Mutation testing of the trusted code (issue 15): applies each mutant of tests/mutants/mutants.txt
# to a scratch copy of the repository, rebuilds it incrementally, runs the tests, and reports
# which mutants the tests kill. Run by hand (not in CI): it takes a while.
#
#   tests/mutants/run.sh [-j JOBS] [--only ID[,ID...]] [--workdir DIR] [--keep]
#
# The working tree is never modified: the scratch copy lives in DIR (default: a fresh
# directory under ${TMPDIR:-/tmp}); --keep keeps it (and its build) for the next run.
# Each mutant first runs its quick tests (the `tests:` field), then, if they all pass, the full
# suite: a mutant is KILLED if any test fails, SURVIVED if every test passes, ERROR if its
# snippet is not in the file (or the mutated code does not build: reported separately).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
list="$here/mutants.txt"
only="" workdir="" keep=0 jobs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=",$2,"; shift 2 ;;
    --workdir) workdir="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -j) jobs="-j $2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$workdir" ]; then workdir="$(mktemp -d "${TMPDIR:-/tmp}/interpcert-mutants.XXXXXX")"; fi
mkdir -p "$workdir"
copy="$workdir/repo"  # build in $copy/build: the same relative paths as a checkout, so ccache hits
build="$copy/build"
cleanup() {
  if [ "$keep" -eq 0 ]; then rm -rf "$workdir"; fi
}
trap cleanup EXIT
trap 'echo; echo "interrupted: the working tree was never touched; scratch copy removed unless --keep"; exit 130' INT TERM

# The scratch copy: the tracked files of the working tree as they are now (uncommitted edits
# included), synced so that unchanged files keep their timestamps and the build stays incremental;
# a changed file gets a new timestamp (not -p: a file restored after an interrupted run must be
# newer than the object its mutant left).
mkdir -p "$copy"
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
  while IFS= read -r -d '' f; do
    [ -f "$root/$f" ] || continue
    cmp -s "$root/$f" "$copy/$f" 2>/dev/null || { mkdir -p "$copy/$(dirname "$f")"; cp "$root/$f" "$copy/$f"; }
  done
if [ ! -f "$build/build.ninja" ]; then
  echo "configuring the scratch build in $build ..."
  (cd "$copy" && meson setup build >/dev/null) || { echo "meson setup failed"; exit 2; }
fi
echo "building the unmutated copy ..."
ninja -C "$build" $jobs >/dev/null || { echo "the unmutated copy does not build"; exit 2; }
echo "running the full suite on the unmutated copy ..."
if ! meson test -C "$build" --no-rebuild -q >"$workdir/baseline.log" 2>&1; then
  echo "the unmutated copy fails its tests (see $workdir/baseline.log): fix that first"; exit 2
fi

# The originals of mutated files are taken from the synced copy, not from the working tree, so
# editing (or rebasing) the working tree during a run cannot mix versions in the scratch build.
orig="$workdir/orig"
rm -rf "$orig"
killed=0 survived=0 errors=0 total=0
survivors=() errs=()
while IFS=$'\t' read -r id file quick; do
  if [ -n "$only" ] && [[ "$only" != *",$id,"* ]]; then continue; fi
  total=$((total + 1))
  if [ ! -f "$orig/$file" ]; then mkdir -p "$orig/$(dirname "$file")"; cp -p "$copy/$file" "$orig/$file"; fi
  cp -p "$orig/$file" "$copy/$file"  # start from the original
  if ! python3 "$here/apply.py" apply "$list" "$id" "$copy" 2>"$workdir/apply.err"; then
    echo "ERROR     $id ($file): $(cat "$workdir/apply.err")"
    errors=$((errors + 1)); errs+=("$id"); continue
  fi
  log="$workdir/$id.log"
  status=""
  # Quick tests first, building only the programs they run; then everything and the full suite.
  targets=""
  # shellcheck disable=SC2086
  [ -n "$quick" ] && targets=$(python3 "$here/apply.py" targets "$build" $quick)
  # shellcheck disable=SC2086
  if ! ninja -C "$build" $jobs $targets >"$log" 2>&1; then
    status="ERROR (does not build)"
  else
    if [ -n "$quick" ]; then
      # shellcheck disable=SC2086
      meson test -C "$build" --no-rebuild -q $quick >>"$log" 2>&1 || status="KILLED (quick: $quick)"
    fi
    if [ -z "$status" ]; then
      if ! ninja -C "$build" $jobs >>"$log" 2>&1; then
        status="ERROR (does not build)"
      else
        meson test -C "$build" --no-rebuild -q >>"$log" 2>&1 || status="KILLED (full suite)"
      fi
    fi
  fi
  cp -p "$orig/$file" "$copy/$file"  # restore, and mark it changed for the next build
  touch "$copy/$file"
  case "$status" in
    KILLED*) killed=$((killed + 1)); echo "killed    $id: ${status#KILLED }" ;;
    ERROR*) errors=$((errors + 1)); errs+=("$id"); echo "ERROR     $id: does not build (see $log)" ;;
    *) survived=$((survived + 1)); survivors+=("$id"); echo "SURVIVED  $id ($file)" ;;
  esac
done < <(python3 "$here/apply.py" list "$list")
ninja -C "$build" $jobs >/dev/null 2>&1  # leave the scratch build unmutated (for --keep)

echo
echo "mutants: $total, killed: $killed, survived: $survived, errors: $errors"
[ ${#survivors[@]} -gt 0 ] && echo "survived: ${survivors[*]}"
[ ${#errs[@]} -gt 0 ] && echo "errors: ${errs[*]}"
if [ $((killed + survived)) -gt 0 ]; then
  echo "mutation score: $killed/$((killed + survived)) killed ($((100 * killed / (killed + survived)))%)"
fi
[ "$survived" -eq 0 ] && [ "$errors" -eq 0 ]
