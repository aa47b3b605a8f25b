"""PyTorch float64/float32 evaluations of softmax models against the certified IEEE bound of
`interpcert run --float` (proofs/float-bound.md, "Softmax models").

Usage: torch_float_softmax.py INTERPCERT SOURCE_ROOT [WORKDIR]   (default: a temporary directory)
Builds a few softmax models (the construction at two betas, with and without its staircase layer,
and seeded random ones), evaluates each in PyTorch exactly as the authors' module does
(rho*x + softmax(q k^T / tau) v, eta*x + W relu(U x + b); a factored V as two linear maps), with
every weight and input rounded to nearest in the format (exactly, from the rationals), and checks
max |output - target| (computed exactly from the float outputs) <= the certified bound. Prints one
line per model and format; exit 1 on any failure, 77 (skip) without torch."""

import json
import os
import random
import re
import struct
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction

try:
    import torch
except ImportError:
    print("SKIP: torch is not importable")
    sys.exit(77)

ic, root = sys.argv[1], sys.argv[2]
work = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp()
torch.set_num_threads(1)


def to_f32(x):
    """x (Fraction) rounded to nearest-even binary32, exactly (no double rounding through float64)."""
    d = float(x)
    f = struct.unpack("f", struct.pack("f", d))[0]
    best = f
    for g in (f, next32(f, 1), next32(f, -1)):
        if abs(Fraction(g) - x) < abs(Fraction(best) - x) or (
                abs(Fraction(g) - x) == abs(Fraction(best) - x) and struct.unpack("I", struct.pack("f", g))[0] % 2 == 0):
            best = g
    return best


def next32(f, direction):
    bits = struct.unpack("i", struct.pack("f", f))[0]
    if f == 0:
        bits = 1 if direction > 0 else -2147483647
    elif (f > 0) == (direction > 0):
        bits += 1
    else:
        bits -= 1
    return struct.unpack("f", struct.pack("i", bits))[0]


def rnd(x, dtype):
    x = Fraction(x)
    return float(x) if dtype == torch.float64 else to_f32(x)


def tensor(rows, dtype):
    return torch.tensor([[rnd(v, dtype) for v in r] for r in rows], dtype=dtype)


def evaluate(model, seq, dtype):
    x = torch.tensor([[rnd(v, dtype) for v in tok] for tok in seq], dtype=dtype)
    tau = rnd(1 / Fraction(model["beta"]), torch.float64)  # the metadata's tau = 1/beta as a float
    for b in model["blocks"]:
        sa, ff = b["sa"], b["ff"]
        if sa is not None:
            q = x @ tensor(sa["Q"], dtype).T
            k = x @ tensor(sa["K"], dtype).T
            V = sa["V"]
            v = (x @ tensor(V["right"], dtype).T) @ tensor(V["left"], dtype).T if isinstance(V, dict) else x @ tensor(V, dtype).T
            w = torch.softmax((q @ k.T) / tau, dim=-1)
            x = rnd(sa["rho"], dtype) * x + w @ v
        if ff is not None:
            h = torch.relu(x @ tensor(ff["U"], dtype).T + torch.tensor([rnd(c, dtype) for c in ff["b"]], dtype=dtype))
            x = rnd(ff["eta"], dtype) * x + h @ tensor(ff["W"], dtype).T
    return x


def reference(model, seq):
    """The exact softmax model at 60 digits (mpmath), for targets close to the real output."""
    import mpmath
    mpmath.mp.dps = 60
    F = lambda v: mpmath.mpf(Fraction(v).numerator) / Fraction(v).denominator
    mat = lambda rows: mpmath.matrix([[F(v) for v in r] for r in rows])
    x = mpmath.matrix([[F(v) for v in tok] for tok in seq])
    beta = F(model["beta"])
    for b in model["blocks"]:
        sa, ff = b["sa"], b["ff"]
        if sa is not None:
            q, k = x * mat(sa["Q"]).T, x * mat(sa["K"]).T
            V = sa["V"]
            v = x * (mat(V["left"]) * mat(V["right"])).T if isinstance(V, dict) else x * mat(V).T
            s = q * k.T
            n = s.rows
            out = mpmath.matrix(x.rows, x.cols)
            for i in range(n):
                mx = max(s[i, l] for l in range(n))
                e = [mpmath.exp(beta * (s[i, l] - mx)) for l in range(n)]
                S = sum(e)
                for c in range(x.cols):
                    out[i, c] = F(sa["rho"]) * x[i, c] + sum(e[l] / S * v[l, c] for l in range(n))
            x = out
        if ff is not None:
            U, W = mat(ff["U"]), mat(ff["W"])
            out = mpmath.matrix(x.rows, x.cols)
            for i in range(x.rows):
                h = [max(mpmath.mpf(0), sum(U[r, c] * x[i, c] for c in range(x.cols)) + F(ff["b"][r])) for r in range(U.rows)]
                for c in range(x.cols):
                    out[i, c] = F(ff["eta"]) * x[i, c] + sum(W[c, r] * h[r] for r in range(U.rows))
            x = out
    return x


def error(model, ds, dtype):
    worst = Fraction(0)
    for s in ds["sequences"]:
        out = evaluate(model, s["input"], dtype)
        pos = s.get("positions", list(range(len(s["input"]) - len(s["output"]), len(s["input"]))))
        for p, y in zip(pos, s["output"]):
            for c, t in enumerate(y):
                worst = max(worst, abs(Fraction(out[p][c].item()) - Fraction(t)))
    return worst


def bound(model_path, ds_path, fmt):
    out = subprocess.run([ic, "run", model_path, ds_path, "--float", fmt], capture_output=True, text=True).stdout
    m = re.search(r"^certified: max \|fl\(output\) - target\| <= (\S+)", out, re.M)
    return (Fraction(m.group(1)) if m else None), out


def mpmath_str(x):
    import mpmath
    return mpmath.nstr(x, 40, min_fixed=-mpmath.inf, max_fixed=mpmath.inf)


failures = 0
cases = []
ex = os.path.join(root, "examples")
for name, src, extra in [("shared_top_exact_b4", "shared_top.json", ["--beta", "4", "--exact"]),
                         ("shared_top_b4", "shared_top.json", ["--beta", "4"]),
                         ("two_sequences_b2", "two_sequences.json", ["--beta", "2"])]:
    mp = os.path.join(work, name + ".model.json")
    subprocess.run([ic, "certify", os.path.join(ex, src), "--softmax", *extra, "-q", "-o",
                    os.path.join(work, name + ".cert.json"), "--model-out", mp], check=True, stdout=subprocess.DEVNULL)
    cases.append((name, mp, os.path.join(ex, src)))
seed = 20261128
rng = random.Random(seed)
for r in range(4):
    d = rng.randint(1, 3)
    blocks = []
    for _ in range(rng.randint(1, 3)):
        R = lambda a, b: [[str(Fraction(rng.randint(-9, 9), rng.randint(1, 4))) for _ in range(b)] for _ in range(a)]
        blocks.append({"sa": {"rho": "1", "Q": R(1, d), "K": R(1, d), "V": R(d, d)},
                       "ff": {"eta": "1", "U": R(3, d), "b": [str(Fraction(rng.randint(-9, 9), 3)) for _ in range(3)],
                              "W": R(d, 3)}})
    model = {"format": "interpcert-model", "version": 1, "d": d, "attention": "softmax",
             "beta": str(Fraction(rng.randint(1, 9), rng.randint(1, 3))), "blocks": blocks}
    seqs = [[[str(Fraction(rng.randint(-6, 6), 2)) for _ in range(d)] for _ in range(rng.randint(2, 5))] for _ in range(3)]
    # Targets: the exact softmax output to 40 digits (mpmath), so the errors are the rounding errors.
    ds = {"format": "interpcert-dataset", "version": 1, "d": d, "sequences": []}
    for s in seqs:
        out = reference(model, s)
        last = out.rows - 1
        ds["sequences"].append({"input": s, "output": [[str(Fraction(mpmath_str(out[last, c]))) for c in range(d)]]})
    mp, dp = os.path.join(work, f"random{r}.model.json"), os.path.join(work, f"random{r}.dataset.json")
    json.dump(model, open(mp, "w"))
    json.dump(ds, open(dp, "w"))
    cases.append((f"random{r} (seed {seed})", mp, dp))

for name, mp, dp in cases:
    model, ds = json.load(open(mp)), json.load(open(dp))
    for fmt, dtype in [("binary64", torch.float64), ("binary32", torch.float32)]:
        b, text = bound(mp, dp, fmt)
        err = error(model, ds, dtype)
        if b is None:
            reason = [l for l in text.splitlines() if l.startswith("result:")]
            print(f"{name} {fmt}: no certified bound ({reason[0] if reason else '?'}); PyTorch error {float(err):.3g}")
            continue
        ok = err <= b
        failures += 0 if ok else 1
        print(f"{'ok  ' if ok else 'FAIL'} {name} {fmt}: certified bound {float(b):.3g}, PyTorch {dtype} error {float(err):.3g}"
              + (f" (bound / error = {float(b / err):.3g})" if err > 0 else " (error 0)"))
if len(sys.argv) <= 3:
    shutil.rmtree(work)
sys.exit(1 if failures else 0)
