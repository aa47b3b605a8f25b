#!/usr/bin/env python3
"""Baseline (b): the hardmax forward pass in plain Python with fractions.Fraction, written the
way a researcher would, straight from the formulas of proofs/formats-v1.md.
Usage: baseline_fractions.py MODEL DATASET [SEQUENCES]  -- times the first SEQUENCES sequences
(default: all) and prints: sequences, seconds, seconds per sequence, and whether outputs are exact."""
import json, sys, time
from fractions import Fraction

def mat(rows):
    return [[Fraction(x) for x in r] for r in rows]

def matvec(m, v):
    return [sum((a * b for a, b in zip(row, v)), Fraction(0)) for row in m]

def load_model(path):
    m = json.load(open(path))
    blocks = []
    for b in m["blocks"]:
        sa = ff = None
        if b["sa"] is not None:
            s = b["sa"]
            if isinstance(s["V"], dict):
                left, right = mat(s["V"]["left"]), mat(s["V"]["right"])
                V = [[sum((left[i][k] * right[k][j] for k in range(len(right))), Fraction(0))
                      for j in range(len(right[0]))] for i in range(len(left))]
            else:
                V = mat(s["V"])
            sa = (Fraction(s["rho"]), mat(s["Q"]), mat(s["K"]), V)
        if b["ff"] is not None:
            f = b["ff"]
            ff = (Fraction(f["eta"]), mat(f["U"]), [Fraction(x) for x in f["b"]], mat(f["W"]))
        blocks.append((sa, ff))
    return blocks

def forward(blocks, z):
    for sa, ff in blocks:
        if sa is not None:
            rho, Q, K, V = sa
            qz = [matvec(Q, t) for t in z]
            kz = [matvec(K, t) for t in z]
            vz = [matvec(V, t) for t in z]
            out = []
            for i in range(len(z)):
                s = [sum((a * b for a, b in zip(qz[i], kz[l])), Fraction(0)) for l in range(len(z))]
                best = max(s)
                C = [l for l in range(len(z)) if s[l] == best]
                avg = [sum((vz[l][c] for l in C), Fraction(0)) / len(C) for c in range(len(z[i]))]
                out.append([rho * z[i][c] + avg[c] for c in range(len(z[i]))])
            z = out
        if ff is not None:
            eta, U, b, W = ff
            new = []
            for t in z:
                h = [max(Fraction(0), x + bj) for x, bj in zip(matvec(U, t), b)]
                wh = matvec(W, h)
                new.append([eta * t[c] + wh[c] for c in range(len(t))])
            z = new
    return z

def main():
    blocks = load_model(sys.argv[1])
    ds = json.load(open(sys.argv[2]))
    seqs = ds["sequences"][: int(sys.argv[3])] if len(sys.argv) > 3 else ds["sequences"]
    exact = True
    t0 = time.perf_counter()
    for s in seqs:
        out = forward(blocks, [[Fraction(x) for x in t] for t in s["input"]])
        for k, p in enumerate(s["positions"]):
            exact = exact and out[p] == [Fraction(x) for x in s["output"][k]]
    dt = time.perf_counter() - t0
    print(f"{len(seqs)}\t{dt:.3f}\t{dt / len(seqs):.5f}\t{'exact' if exact else 'MISMATCH'}")

main()
