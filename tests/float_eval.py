#!/usr/bin/env python3
"""An independent plain IEEE evaluation of a hardmax interpcert model (a TEST ORACLE, never a claim).

Usage: float_eval.py MODEL DATASET binary64|binary32 BOUND

Python floats are IEEE binary64. binary32 is emulated: every operation is done in binary64 and
rounded to binary32, which is the correctly rounded binary32 result for +, -, *, / (53 >= 2*24 + 2).
The model's numbers and the inputs are rounded to the format exactly (fractions.Fraction), dot
products are summed left to right, hardmax selects by float equality, the average is sum / |C|
(proofs/formats-v1.md). Prints the largest |fl(output) - target| (exact) and exits 1 if it
exceeds BOUND (an exact rational such as "0" or "3/1000"), 0 otherwise; 2 on bad input. Written
separately from src/ and tests/float_oracle.hpp: it shares nothing with them but the file formats.
"""
import json
import struct
import sys
from fractions import Fraction


def round_to(x, p, emin, emax):
    """x rounded to nearest, ties to even, with p significand bits and exponents emin..emax."""
    if x == 0:
        return Fraction(0)
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    q = max(e, emin) - p + 1
    scaled = a / Fraction(2) ** q
    n = scaled.numerator // scaled.denominator
    rest = scaled - n
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and n % 2 == 1):
        n += 1
    r = n * Fraction(2) ** q
    if r > (2 ** p - 1) * Fraction(2) ** (emax - p + 1):
        raise OverflowError("a number overflows in the format")
    return r if x > 0 else -r


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    model_file, data_file, fmt, bound_text = sys.argv[1:]
    if fmt == "binary64":
        p, emin, emax = 53, -1022, 1023
        rnd = float
    elif fmt == "binary32":
        p, emin, emax = 24, -126, 127

        def rnd(v):
            return struct.unpack("f", struct.pack("f", v))[0]
    else:
        print("unknown format " + fmt, file=sys.stderr)
        return 2
    model = json.load(open(model_file))
    data = json.load(open(data_file))
    if model.get("attention", "hardmax") != "hardmax" or "mask" in model:
        print(model_file + ": only unmasked hardmax models", file=sys.stderr)
        return 2
    bound = Fraction(bound_text)

    def num(text):
        return float(round_to(Fraction(text), p, emin, emax))

    def mat(rows):
        return [[num(x) for x in row] for row in rows]

    def dot(xs, ys):
        s = 0.0
        for x, y in zip(xs, ys):
            s = rnd(s + rnd(x * y))
        return s

    def matvec(m, v, b=None):
        return [rnd(dot(row, v) + (b[i] if b else 0.0)) for i, row in enumerate(m)]

    blocks = []
    for bl in model["blocks"]:
        sa, ff = bl.get("sa"), bl.get("ff")
        B = {}
        if sa:
            B["sa"] = (num(sa["rho"]), mat(sa["Q"]), mat(sa["K"]),
                       (mat(sa["V"]["left"]), mat(sa["V"]["right"])) if isinstance(sa["V"], dict) else mat(sa["V"]))
        if ff:
            B["ff"] = (num(ff["eta"]), mat(ff["U"]), [num(x) for x in ff["b"]], mat(ff["W"]))
        blocks.append(B)

    worst = Fraction(0)
    for s in data["sequences"]:
        z = [[num(x) for x in tok] for tok in s["input"]]
        n = len(z)
        for B in blocks:
            if "sa" in B:
                rho, Q, K, V = B["sa"]
                q = [matvec(Q, t) for t in z]
                k = [matvec(K, t) for t in z]
                v = [matvec(V[0], matvec(V[1], t)) if isinstance(V, tuple) else matvec(V, t) for t in z]
                out = []
                for i in range(n):
                    sc = [dot(q[i], k[l]) for l in range(n)]
                    top = max(sc)
                    C = [l for l in range(n) if sc[l] == top]
                    att = []
                    for c in range(len(z[i])):
                        acc = 0.0
                        for l in C:
                            acc = rnd(acc + v[l][c])
                        att.append(rnd(acc / len(C)))
                    out.append([rnd(rnd(rho * z[i][c]) + att[c]) for c in range(len(z[i]))])
                z = out
            if "ff" in B:
                eta, U, b, W = B["ff"]
                new = []
                for t in z:
                    h = [max(x, 0.0) for x in matvec(U, t, b)]
                    new.append([rnd(rnd(eta * t[c]) + dot(W[c], h)) for c in range(len(t))])
                z = new
        m = len(s["output"])
        positions = s.get("positions")
        if positions is None:
            positions = list(range(m)) if data.get("readout", "last") == "first" else list(range(n - m, n))
        for k, pos in enumerate(positions):
            for c, y in enumerate(s["output"][k]):
                worst = max(worst, abs(Fraction(z[pos][c]) - Fraction(y)))
    print("measured max |fl(output) - target| = %s (~%.3g) in %s; bound %s" % (worst, float(worst), fmt, bound))
    return 1 if worst > bound else 0


if __name__ == "__main__":
    sys.exit(main())
