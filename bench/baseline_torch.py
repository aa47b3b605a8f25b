#!/usr/bin/python3
"""Baseline (c): the same hardmax forward pass in float64 PyTorch (Debian's python3-torch), all
sequences batched (they must have equal lengths). Times the forward pass only, best of 3, and
reports the largest deviation from the targets (float64 is not exact).
Usage: baseline_torch.py MODEL DATASET"""
import json, sys, time
from fractions import Fraction
import torch

torch.set_num_threads(2)
f64 = torch.float64

def t(rows):
    return torch.tensor([[float(Fraction(x)) for x in r] for r in rows], dtype=f64)

m = json.load(open(sys.argv[1]))
ds = json.load(open(sys.argv[2]))
blocks = []
for b in m["blocks"]:
    sa = ff = None
    if b["sa"] is not None:
        s = b["sa"]
        V = t(s["V"]["left"]) @ t(s["V"]["right"]) if isinstance(s["V"], dict) else t(s["V"])
        sa = (float(Fraction(s["rho"])), t(s["Q"]), t(s["K"]), V)
    if b["ff"] is not None:
        f = b["ff"]
        ff = (float(Fraction(f["eta"])), t(f["U"]), torch.tensor([float(Fraction(x)) for x in f["b"]], dtype=f64), t(f["W"]))
    blocks.append((sa, ff))
Z0 = torch.stack([t(s["input"]) for s in ds["sequences"]])  # (N, n, d)

def forward(z):
    for sa, ff in blocks:
        if sa is not None:
            rho, Q, K, V = sa
            s = (z @ Q.T) @ (z @ K.T).transpose(1, 2)           # (N, n, n)
            mask = (s == s.max(dim=2, keepdim=True).values).to(f64)
            w = mask / mask.sum(dim=2, keepdim=True)               # hardmax with ties averaged
            z = rho * z + w @ (z @ V.T)
        if ff is not None:
            eta, U, b, W = ff
            z = eta * z + torch.relu(z @ U.T + b) @ W.T
    return z

best = None
for _ in range(3):
    t0 = time.perf_counter()
    out = forward(Z0)
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
err = 0.0
for j, s in enumerate(ds["sequences"]):
    for k, p in enumerate(s["positions"]):
        y = torch.tensor([float(Fraction(x)) for x in s["output"][k]], dtype=f64)
        err = max(err, float((out[j, p] - y).abs().max()))
print(f"{len(ds['sequences'])}\t{best:.4f}\t{err:.3e}")
