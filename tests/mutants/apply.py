#!/usr/bin/env python3
"""Reads tests/mutants/mutants.txt and applies or lists mutants (used by run.sh).

Format: records separated by blank lines; '#' lines are comments.
    id: h3-true
    file: src/checker/hypotheses.cpp
    find: if (std::adjacent_find(t.begin(), t.end()) != t.end()) {
    replace: if (false) {
    tests: checker hypotheses_diff        (optional: quick tests run first)
`find` must occur exactly once in `file`; a snippet not found (or found twice) is an ERROR
(`apply.py check mutants.txt ROOT`, the meson test mutant_snippets, checks every record).
In `find` and `replace`, the character U+21B5 (a return arrow) stands for a newline, for
snippets that need their neighbouring line to be unique.
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
        cur[key.strip()] = value.replace("\u21b5", "\n")
    if cur:
        records.append(cur)
    for r in records:
        for k in ("id", "file", "find", "replace"):
            if k not in r:
                sys.exit(f"mutants.txt: record {r} lacks '{k}'")
    return records


def main():
    cmd, listfile = sys.argv[1], sys.argv[2]
    records = load(listfile) if cmd != "targets" else []
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
    if cmd == "check":  # check ROOT: every snippet occurs exactly once (a meson test: code that moves
        root = sys.argv[3]  # leaves its mutants matching nothing, and run.sh would only say ERROR)
        bad = 0
        for r in records:
            try:
                n = open(f"{root}/{r['file']}", encoding="utf-8").read().count(r["find"])
            except OSError as e:
                n, why = 0, f"cannot read it: {e.strerror}"
            else:
                why = f"snippet found {n} times"
            if n != 1:
                bad += 1
                print(f"mutant {r['id']}: {r['file']}: {why}: {r['find']!r}")
        print(f"{len(records)} mutants, {bad} whose snippet does not occur exactly once in its file")
        sys.exit(1 if bad else 0)
    if cmd == "targets":  # targets BUILD TEST...: the programs those tests run (ninja targets)
        import json, os, subprocess
        build, names = os.path.realpath(sys.argv[2]), set(sys.argv[3:])
        tests = json.loads(subprocess.run(["meson", "introspect", "--tests", build], check=True,
                                          capture_output=True, text=True).stdout)
        out = set()
        for t in tests:
            if t["name"] in names:
                for word in t["cmd"]:
                    # Options (e.g. the unit-test program's --source-file filter) are no programs.
                    if not isinstance(word, str) or not word or word.startswith("-"):
                        continue
                    path = os.path.realpath(os.path.join(build, word))
                    if path.startswith(build + "/") and not word.endswith(".sh"):
                        out.add(os.path.relpath(path, build))
        print(" ".join(sorted(out)))
        return
    sys.exit(f"unknown command {cmd}")


main()
