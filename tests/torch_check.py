"""The PyTorch half of tests/torch_test.sh, in one process (importing torch takes seconds).

Usage: torch_check.py WORKDIR SOURCE_ROOT
Reads in WORKDIR the exports made by torch_test.sh, writes the files it needs back, and prints one
line per check ("ok ..." / "FAIL ..."); exit 1 on any failure. Numbers in the datasets are read
exactly (fractions.Fraction) and errors are computed exactly from the float64 outputs.
"""

import json
import os
import struct
import sys
from fractions import Fraction

work, root = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "python"))
import torch  # noqa: E402
from torch import nn  # noqa: E402

import interpcert_torch as it  # noqa: E402

failures = 0
# Until the certified float64 bound of `interpcert run --float binary64` is on main, a float64
# forward pass of these small constructed models is compared with the exact targets within this
# stated tolerance, relative to max(1, |target|) (measured: up to 7.9e-9 on shared_top_w4, whose
# hats have large slopes).
TOLERANCE = Fraction(1, 10**7)


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    failures += 0 if ok else 1


def dataset(path):
    ds = json.load(open(path))
    out = []
    for s in ds["sequences"]:
        n, m = len(s["input"]), len(s["output"])
        pos = s.get("positions") or (list(range(m)) if ds.get("readout") == "first" else list(range(n - m, n)))
        out.append(([[Fraction(v) for v in t] for t in s["input"]], [[Fraction(v) for v in t] for t in s["output"]], pos))
    return out


def max_error(model, data, dtype=torch.float64):
    """max over output coordinates of |model(x) - target|, exact from the float outputs."""
    worst, worst_rel = Fraction(0), Fraction(0)
    with torch.no_grad():
        for x, targets, pos in data:
            y = model(torch.tensor([[float(v) for v in t] for t in x], dtype=dtype))
            for k, p in enumerate(pos):
                for c, t in enumerate(targets[k]):
                    e = abs(Fraction(y[p, c].item()) - t)
                    worst = max(worst, e)
                    worst_rel = max(worst_rel, e / max(1, abs(t)))
    return worst, worst_rel


# 1. Export -> load in PyTorch float64 -> outputs match the exact targets.
for name in ["shared_top", "two_sequences", "hand", "shared_top_w4", "causal_order"]:
    model = it.load(os.path.join(work, name + ".safetensors"))
    err, rel = max_error(model, dataset(os.path.join(work, name + ".dataset.json")))
    print(f"     {name}: float64 PyTorch max |output - target| = {float(err):.3e}", flush=True)
    with open(os.path.join(work, name + ".torch_error"), "w") as f:
        f.write(f"{err.numerator}/{err.denominator}\n")
    check(rel <= TOLERANCE, f"{name}: float64 outputs within {float(TOLERANCE):g} (relative) of the exact targets")
# The causal model's mask comes from the metadata: loaded without it, the same weights miss (the
# dataset is impossible without a mask: obstruction O2), so the mask was really read and applied.
unmasked = it.load(os.path.join(work, "causal_order.safetensors"), causal=False)
err, rel = max_error(unmasked, dataset(os.path.join(work, "causal_order.dataset.json")))
check(rel > 1, f"causal_order without its mask misses its targets (max |output - target| = {float(err):.3g})")


# 2. A module written from the description alone (fixed width 4, h = 1) loads a --uniform
#    export with load_state_dict(strict=True) and computes the same outputs.
class AuthorsAttention(nn.Module):
    def __init__(self, d, h=1):
        super().__init__()
        self.to_q, self.to_k = nn.Linear(d, h, bias=False), nn.Linear(d, h, bias=False)
        self.to_v = nn.Linear(d, d, bias=False)

    def forward(self, x):
        s = self.to_q(x) @ self.to_k(x).T
        top = (s == s.max(dim=-1, keepdim=True).values).to(x.dtype)  # hardmax: mean over the argmax set
        return (top / top.sum(dim=-1, keepdim=True)) @ self.to_v(x)


class AuthorsBlock(nn.Module):
    def __init__(self, d, w=4):
        super().__init__()
        self.rho, self.eta = nn.Parameter(torch.ones(1)), nn.Parameter(torch.ones(1))
        self.attn = AuthorsAttention(d)
        self.ff = nn.Sequential(nn.Linear(d, w), nn.ReLU(), nn.Linear(w, d, bias=False))

    def forward(self, x):
        x = self.rho * x + self.attn(x)
        return self.eta * x + self.ff(x)


class AuthorsModel(nn.Module):
    def __init__(self, d, L):
        super().__init__()
        self.blocks = nn.Sequential(*[AuthorsBlock(d) for _ in range(L)])

    def forward(self, x):
        return self.blocks(x)


tensors, meta = it.read_safetensors(os.path.join(work, "shared_top_w4_uniform.safetensors"))
authors = AuthorsModel(int(meta["d"]), int(meta["blocks"])).double()
try:
    authors.load_state_dict(tensors, strict=True)
    check(True, f"fixed-width module (h = 1, w = 4, {meta['blocks']} blocks) loads the --uniform export, strict=True")
    data = dataset(os.path.join(work, "shared_top_w4.dataset.json"))
    err, rel = max_error(authors, data)
    check(rel <= TOLERANCE, f"fixed-width module: outputs within {float(TOLERANCE):g} of the targets ({float(err):.3e})")
except RuntimeError as e:
    check(False, f"fixed-width module cannot load the --uniform export: {e}")

# 3. A small softmax model trained for a few steps in PyTorch (seeded), saved for import.
torch.manual_seed(20261128)
print("     training seed 20261128", flush=True)
d, N, n = 2, 4, 3
xs = torch.randint(-4, 5, (N, n, d)).double() / 4  # dyadic: the dataset holds them exactly
ys = torch.randint(-4, 5, (N, d)).double() / 4
model = it.Transformer(d, n_blocks=2, heads=1, widths=4, attention="softmax", tau=0.5)
opt = torch.optim.Adam(model.parameters(), lr=0.05)
for step in range(30):
    opt.zero_grad()
    loss = ((model(xs)[:, -1, :] - ys) ** 2).sum()
    loss.backward()
    opt.step()
print(f"     trained 30 Adam steps, final loss {loss.item():.4f}", flush=True)
it.save(model, os.path.join(work, "trained.safetensors"))
with open(os.path.join(work, "trained.dataset.json"), "w") as f:
    json.dump({"format": "interpcert-dataset", "version": 1, "d": d,
               "sequences": [{"input": [[str(Fraction(v)) for v in tok] for tok in xs[j].tolist()],
                              "output": [[str(Fraction(v)) for v in ys[j].tolist()]]} for j in range(N)]}, f)
err, _ = max_error(model, dataset(os.path.join(work, "trained.dataset.json")))
with open(os.path.join(work, "trained.torch_error"), "w") as f:
    f.write(f"{err.numerator}/{err.denominator}\n")
print(f"     trained model: float64 PyTorch max |output - target| = {float(err):.6e}", flush=True)
# The same module in float32 and bfloat16, saved for the importer's narrow-format path.
it.save({k: v.float() for k, v in model.state_dict().items()}, os.path.join(work, "trained_f32.safetensors"),
        attention="softmax", tau=0.5)
it.save({k: v.bfloat16() for k, v in model.state_dict().items()}, os.path.join(work, "trained_bf16.safetensors"),
        attention="softmax", tau=0.5)
it.save({k: v.half() for k, v in model.state_dict().items()}, os.path.join(work, "trained_f16.safetensors"),
        attention="softmax", tau=0.5)
it.save(model.state_dict(), os.path.join(work, "trained_nometa.safetensors"))  # no attention in the metadata

# 4. load(save(m)) is m, in every dtype; a reload of the saved file gives bit-identical weights.
again = it.load(os.path.join(work, "trained.safetensors"))
check(all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values())),
      "save then load gives back the float64 weights bit for bit")
half, _ = it.read_safetensors(os.path.join(work, "trained_bf16.safetensors"))
check(all(half[k].dtype == torch.bfloat16 and torch.equal(half[k], v.bfloat16()) for k, v in model.state_dict().items()),
      "bfloat16 save then read gives back the bfloat16 weights bit for bit")


# 5. Hardmax semantics (ties matter): random one-block models with weights and tokens from small
#    dyadic sets, so that scores are exact in float64 and ties frequent; the PyTorch outputs become
#    the targets, and torch_test.sh has interpcert evaluate the imported model exactly against them.
gen = torch.Generator().manual_seed(99)
print("     hardmax differential seed 99", flush=True)
ties = 0
for t in range(12):
    d = 1 + t % 3
    m = it.Transformer(d, 1, heads=1 + t % 2, widths=3, attention="hardmax")
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randint(-2, 3, p.shape, generator=gen).double() / 2)
    seqs = []
    for j in range(4):
        x = torch.randint(-1, 2, (2 + j, d), generator=gen).double()
        s_ = m.blocks[0].attn.to_q(x) @ m.blocks[0].attn.to_k(x).T
        ties += int(((s_ == s_.amax(-1, keepdim=True)).sum(-1) > 1).sum())
        y = m(x).detach()
        seqs.append({"input": [[str(Fraction(v)) for v in tok] for tok in x.tolist()],
                     "output": [[repr(v) for v in tok] for tok in y.tolist()],
                     "positions": list(range(len(x)))})
    it.save(m, os.path.join(work, f"tie{t}.safetensors"))
    with open(os.path.join(work, f"tie{t}.dataset.json"), "w") as f:
        json.dump({"format": "interpcert-dataset", "version": 1, "d": d, "sequences": seqs}, f)
print(f"     hardmax differential: 12 models, {ties} query tokens with a tied argmax", flush=True)
check(ties > 0, "the hardmax differential test has ties")

# 6. Hostile files for the importer's refusals (the shell script runs `interpcert import` on each).
def write_raw(path, header_bytes, data=b""):
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)) + header_bytes + data)


def header_of(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


h, data = header_of(os.path.join(work, "trained.safetensors"))


def variant(name, edit, data_edit=None):
    hh = json.loads(json.dumps(h))
    edit(hh)
    write_raw(os.path.join(work, "bad_" + name + ".safetensors"), json.dumps(hh).encode(),
              data_edit(bytearray(data)) if data_edit else data)


def drop(key):
    def f(hh):  # remove a tensor and its bytes: shift later offsets down so the header stays honest
        b, e = hh[key]["data_offsets"]
        del hh[key]
        for k, v in hh.items():
            if k != "__metadata__" and v["data_offsets"][0] >= e:
                v["data_offsets"] = [v["data_offsets"][0] - (e - b), v["data_offsets"][1] - (e - b)]
    return f


rho = h["blocks.0.rho"]["data_offsets"]
variant("missing", drop("blocks.1.ff.0.bias"),
        lambda b: b[:h["blocks.1.ff.0.bias"]["data_offsets"][0]] + b[h["blocks.1.ff.0.bias"]["data_offsets"][1]:])
variant("misshapen", lambda hh: hh["blocks.0.attn.to_v.weight"].update(shape=[4, 1]))
variant("dtype", lambda hh: hh["blocks.0.rho"].update(dtype="I64"))
variant("nan", lambda hh: None, lambda b: b[:rho[0]] + struct.pack("<d", float("nan")) + b[rho[1]:])
variant("inf", lambda hh: None, lambda b: b[:rho[0]] + struct.pack("<d", float("-inf")) + b[rho[1]:])
variant("overlap", lambda hh: hh["blocks.0.eta"].update(data_offsets=[rho[0], rho[1]]))
variant("beyond", lambda hh: None, lambda b: b[:-8])  # the last tensor ends past the data
variant("trailing", lambda hh: None, lambda b: b + b"12345678")  # bytes that belong to no tensor
variant("reversed", lambda hh: hh["blocks.0.rho"].update(data_offsets=[rho[1], rho[0]]))
variant("unknown_dtype", lambda hh: hh["blocks.0.rho"].update(dtype="F128"))
write_raw(os.path.join(work, "bad_huge_header.safetensors"), b"{}")
with open(os.path.join(work, "bad_huge_header.safetensors"), "r+b") as f:
    f.write(struct.pack("<Q", 2**40))

print(f"torch_check: {failures} failure(s)")
sys.exit(1 if failures else 0)
