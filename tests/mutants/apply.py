#!/usr/bin/env python3
"""Reads tests/mutants/mutants.txt and applies or lists mutants (used by run.sh).

Format: records separated by blank lines; '#' lines are comments.
    id: h3-true
    file: src/checker/hypotheses.cpp
    find: if (std::adjacent_find(t.begin(), t.end()) != t.end()) {
    replace: if (false) {
    tests: checker hypotheses_diff        (optional: quick tests run first)
`find` must occur exactly once in `file`; a snippet not found (or found twice) is an ERROR.
"""
import sys


def load(path):
    records, cur = [], {}
    for raw in open(path, encoding="utf-8").read().split("\n"):
        line = raw.rstrip("\n")
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                records.append(cur)
                cur = {}
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
        cur[key.strip()] = value
    if cur:
        records.append(cur)
    for r in records:
        for k in ("id", "file", "find", "replace"):
            if k not in r:
                sys.exit(f"mutants.txt: record {r} lacks '{k}'")
    return records


def main():
    cmd, listfile = sys.argv[1], sys.argv[2]
    records = load(listfile)
    if cmd == "list":  # id<TAB>file<TAB>tests
        for r in records:
            print(f"{r['id']}\t{r['file']}\t{r.get('tests', '')}")
        return
    if cmd == "apply":  # apply ID ROOT: rewrites ROOT/file; exit 3 if the snippet is missing/ambiguous
        ident, root = sys.argv[3], sys.argv[4]
        r = next(x for x in records if x["id"] == ident)
        path = f"{root}/{r['file']}"
        try:
            text = open(path, encoding="utf-8").read()
        except OSError as e:
            print(f"cannot read {path}: {e}", file=sys.stderr)
            sys.exit(3)
        n = text.count(r["find"])
        if n != 1:
            print(f"snippet found {n} times in {r['file']}: {r['find']}", file=sys.stderr)
            sys.exit(3)
        open(path, "w", encoding="utf-8").write(text.replace(r["find"], r["replace"]))
        return
    sys.exit(f"unknown command {cmd}")


main()
