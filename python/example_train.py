"""Train a small softmax transformer in PyTorch for a few steps and save it for interpcert.

    python3 python/example_train.py OUT_DIR

writes OUT_DIR/trained.safetensors (the module's state dict, tau in the metadata) and
OUT_DIR/trained.dataset.json (the training data, exactly: the inputs are dyadic). Then:

    interpcert import OUT_DIR/trained.safetensors -o OUT_DIR/trained.json
    interpcert certify OUT_DIR/trained.dataset.json --model OUT_DIR/trained.json -o OUT_DIR/trained.cert.json
"""

import json
import os
import sys
from fractions import Fraction

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interpcert_torch as it  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "."
torch.manual_seed(0)
d, N, n = 2, 4, 3
xs = torch.randint(-4, 5, (N, n, d)).double() / 4
ys = torch.randint(-4, 5, (N, d)).double() / 4
model = it.Transformer(d, n_blocks=2, heads=1, widths=4, attention="softmax", tau=0.5)
opt = torch.optim.Adam(model.parameters(), lr=0.05)
for step in range(50):
    opt.zero_grad()
    loss = ((model(xs)[:, -1, :] - ys) ** 2).sum()
    loss.backward()
    opt.step()
print(f"trained 50 steps: loss {loss.item():.4g}, "
      f"float64 max |output - target| = {(model(xs)[:, -1, :] - ys).abs().max().item():.6g}")

it.save(model, os.path.join(out, "trained.safetensors"))  # the state dict, and beta = 1/tau exactly
with open(os.path.join(out, "trained.dataset.json"), "w") as f:
    json.dump({"format": "interpcert-dataset", "version": 1, "d": d,
               "sequences": [{"input": [[str(Fraction(v)) for v in tok] for tok in xs[j].tolist()],
                              "output": [[str(Fraction(v)) for v in ys[j].tolist()]]} for j in range(N)]}, f, indent=1)
print(f"wrote {out}/trained.safetensors and {out}/trained.dataset.json")
