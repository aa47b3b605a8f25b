"""interpcert <-> PyTorch: the transformers of interpcert as torch.nn.Modules, through safetensors.

The module has the state-dict keys of the paper's authors' PyTorch code (Alcalde, Fantuzzi &
Zuazua, arXiv:2502.02270), whose block is

    x = rho * x + attn(x)        attn(x) = softmax(q k^T / tau) v,  q = to_q(x), k = to_k(x), v = to_v(x)
    x = eta * x + ff(x)          ff = Sequential(Linear(d, w), ReLU(), Linear(w, d, bias=False))

so `blocks.{l}.rho` [1], `blocks.{l}.eta` [1], `blocks.{l}.attn.to_q.weight` [h, d],
`blocks.{l}.attn.to_k.weight` [h, d], `blocks.{l}.attn.to_v.weight` [d, d], `blocks.{l}.ff.0.weight`
[w, d], `blocks.{l}.ff.0.bias` [w], `blocks.{l}.ff.2.weight` [d, w]. Hardmax attention follows
proofs/formats-v1.md: each token averages V z over the set of positions of maximal score (ties matter).

    import interpcert_torch as it
    model = it.load("model.safetensors")            # from `interpcert export MODEL -o model.safetensors`
    it.save(model, "trained.safetensors")           # then `interpcert import trained.safetensors -o m.json`

Needs only torch (Debian: python3-torch); the safetensors header is read with json and the tensors
with torch.frombuffer.
"""

import json
import struct
import sys
from fractions import Fraction

import torch
from torch import nn

_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
_NAMES = {v: k for k, v in _DTYPES.items()}
_SAME_SIZE_INT = {8: torch.int64, 4: torch.int32, 2: torch.int16}


class Attention(nn.Module):
    """Attention with h query/key rows: hardmax (tau None) or softmax(q k^T / tau); with causal=True
    position i attends only to positions l <= i (the authors' decoder mask)."""

    def __init__(self, d, h, tau=None, dtype=torch.float64, causal=False):
        super().__init__()
        self.to_q = nn.Linear(d, h, bias=False, dtype=dtype)
        self.to_k = nn.Linear(d, h, bias=False, dtype=dtype)
        self.to_v = nn.Linear(d, d, bias=False, dtype=dtype)
        self.tau, self.causal = tau, causal

    def forward(self, x):  # x: [..., n, d]
        q, k, v = self.to_q(x), self.to_k(x), self.to_v(x)
        scores = q @ k.transpose(-1, -2)
        if self.causal:
            n = scores.shape[-1]
            future = torch.triu(torch.ones(n, n, dtype=torch.bool, device=x.device), diagonal=1)
            scores = scores.masked_fill(future, float("-inf"))
        if self.tau is None:
            # Hardmax: the average over the argmax set (every position of maximal score).
            top = scores == scores.amax(dim=-1, keepdim=True)
            weights = top.to(x.dtype) / top.sum(dim=-1, keepdim=True).to(x.dtype)
        else:
            weights = torch.softmax(scores / self.tau, dim=-1)
        return weights @ v


class Block(nn.Module):
    """x = rho*x + attn(x); x = eta*x + ff(x)."""

    def __init__(self, d, h, w, tau=None, dtype=torch.float64, causal=False):
        super().__init__()
        self.rho = nn.Parameter(torch.ones(1, dtype=dtype))
        self.eta = nn.Parameter(torch.ones(1, dtype=dtype))
        self.attn = Attention(d, h, tau, dtype, causal)
        self.ff = nn.Sequential(nn.Linear(d, w, dtype=dtype), nn.ReLU(), nn.Linear(w, d, bias=False, dtype=dtype))

    def forward(self, x):
        x = self.rho * x + self.attn(x)
        return self.eta * x + self.ff(x)


class Transformer(nn.Module):
    """Blocks in a Sequential named `blocks`; `heads` and `widths` per block (or one int for all).
    attention: "hardmax" or "softmax" (then tau = 1/beta is required); causal: mask l > i."""

    def __init__(self, d, n_blocks, heads=1, widths=4, attention="softmax", tau=None, dtype=torch.float64,
                 causal=False):
        super().__init__()
        if attention not in ("hardmax", "softmax"):
            raise ValueError("attention must be 'hardmax' or 'softmax'")
        if attention == "softmax" and tau is None:
            raise ValueError("softmax attention needs tau (= 1/beta)")
        heads = [heads] * n_blocks if isinstance(heads, int) else list(heads)
        widths = [widths] * n_blocks if isinstance(widths, int) else list(widths)
        if len(heads) != n_blocks or len(widths) != n_blocks:
            raise ValueError("heads and widths need one entry per block")
        self.d, self.attention, self.causal = d, attention, causal
        self.tau = None if attention == "hardmax" else tau
        self.blocks = nn.Sequential(*[Block(d, h, w, self.tau, dtype, causal) for h, w in zip(heads, widths)])

    def forward(self, x):
        return self.blocks(x)


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file: a dict name -> tensor (the file's dtype) and the
    "__metadata__" dict (strings). Checks that the byte ranges tile the data exactly."""
    if sys.byteorder != "little":
        raise RuntimeError("safetensors data is little-endian; this reader needs a little-endian machine")
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: not a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    data = bytearray(raw[8 + n:])  # writable, so torch.frombuffer does not warn
    tensors, at = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        if begin != at or end < begin or end > len(data):
            raise ValueError(f"{path}: tensor {name}: data_offsets {begin, end} do not tile the data")
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name}: dtype {info['dtype']} is not F64/F32/F16/BF16")
        dtype = _DTYPES[info["dtype"]]
        count = 1
        for s in info["shape"]:
            count *= s
        if count * torch.finfo(dtype).bits // 8 != end - begin:
            raise ValueError(f"{path}: tensor {name}: shape and dtype do not match the byte count")
        t = torch.frombuffer(data, dtype=dtype, count=count, offset=begin) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"]).clone()
        at = end
    if at != len(data):
        raise ValueError(f"{path}: {len(data) - at} bytes after the last tensor")
    return tensors, metadata


def load(path, dtype=torch.float64, attention=None, tau=None, causal=None):
    """The Transformer of a safetensors file (as `interpcert export` writes it), with per-block widths
    from the tensor shapes, attention, tau = 1/beta and the mask from the metadata (or the
    arguments), and the weights converted to `dtype`. Loaded with load_state_dict(strict=True)."""
    tensors, meta = read_safetensors(path)
    n_blocks = 1 + max((int(k.split(".")[1]) for k in tensors), default=-1)
    d = int(meta["d"]) if "d" in meta else tensors["blocks.0.attn.to_v.weight"].shape[0]
    attention = attention or meta.get("attention")
    if attention is None:
        raise ValueError(f"{path}: no attention in the metadata; pass attention='hardmax' or 'softmax'")
    if attention == "softmax" and tau is None:
        if "beta" not in meta:
            raise ValueError(f"{path}: softmax without beta in the metadata; pass tau")
        tau = float(1 / Fraction(meta["beta"]))
    heads = [tensors[f"blocks.{l}.attn.to_q.weight"].shape[0] for l in range(n_blocks)]
    widths = [tensors[f"blocks.{l}.ff.0.weight"].shape[0] for l in range(n_blocks)]
    if causal is None:
        causal = meta.get("mask", "none") == "causal"
    model = Transformer(d, n_blocks, heads, widths, attention, tau, dtype, causal)
    model.load_state_dict({k: v.to(dtype).reshape(model.state_dict()[k].shape) for k, v in tensors.items()},
                          strict=True)
    return model


def save(module, path, attention=None, tau=None, causal=None, metadata=None):
    """Writes module.state_dict() (or a state dict) to a safetensors file, tensors in state-dict
    order, each in its own dtype (F64, F32, F16 or BF16). The metadata records d, attention, the
    EXACT beta = 1/tau of the float tau, and the mask (taken from a Transformer, or the arguments) so
    that `interpcert import` needs no flag. Deterministic bytes."""
    state = module.state_dict() if isinstance(module, nn.Module) else module
    attention = attention or getattr(module, "attention", None)
    tau = tau if tau is not None else getattr(module, "tau", None)
    causal = causal if causal is not None else getattr(module, "causal", None)
    meta = dict(metadata or {})
    if causal is not None:
        meta["mask"] = "causal" if causal else "none"
    if "blocks.0.attn.to_v.weight" in state:
        meta.setdefault("d", str(state["blocks.0.attn.to_v.weight"].shape[0]))
    if attention:
        meta["attention"] = attention
        if attention == "softmax":
            if tau is None:
                raise ValueError("softmax attention: pass tau (beta = 1/tau)")
            meta["beta"] = str(1 / Fraction(float(tau)))  # exact: the reciprocal of the float tau
    header, chunks, at = {}, [], 0
    if meta:
        header["__metadata__"] = {k: str(v) for k, v in sorted(meta.items())}
    for name, t in state.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in _NAMES:
            raise ValueError(f"tensor {name}: dtype {t.dtype} is not float64/float32/float16/bfloat16")
        size = torch.finfo(t.dtype).bits // 8
        b = t.reshape(-1).view(_SAME_SIZE_INT[size]).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [at, at + len(b)]}
        chunks.append(b)
        at += len(b)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
