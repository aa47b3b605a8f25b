#!/usr/bin/env python3
"""Regenerates the checker's regression corpus (run from the repository root after a build):
    python3 tests/corpus/make_corpus.py build
Valid certificates, and tampered ones that must be refuted (exit 1) or rejected as unreadable
(exit 2). expectations.txt lists: certificate, dataset, expected exit status, a text the
checker's output must contain. CI only reads these files; it does not run this script."""
import hashlib, json, os, subprocess, sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"
here = os.path.dirname(os.path.abspath(__file__))
tool = os.path.join(build, "interpcert")
rows = []

def write(name, text):
    with open(os.path.join(here, name), "w") as f:
        f.write(text)

def expect(cert, dataset, status, text):
    rows.append(f"{cert} {dataset} {status} {text}")

def certify(dataset_src, name, extra=()):
    ds_name = name + ".dataset.json"
    write(ds_name, open(dataset_src).read())
    out = os.path.join(here, name + ".cert.json")
    subprocess.run([tool, "certify", os.path.join(here, ds_name), "-o", out, "-q", *extra], check=True,
                   stdout=subprocess.DEVNULL)
    return ds_name, open(out).read()

def redigest(cert_text, mutate_model):
    """Edits the embedded model and recomputes its digest and |theta|^2 (a careful forger)."""
    cert = json.loads(cert_text)
    mutate_model(cert["model"]["content"])
    tmp = os.path.join(here, "_model.tmp.json")
    with open(tmp, "w") as f:
        json.dump(cert["model"]["content"], f)
    digest = subprocess.run([tool, "digest", tmp], check=True, capture_output=True, text=True).stdout.split()[0]
    os.remove(tmp)
    cert["model"]["digest"] = digest
    from fractions import Fraction
    total = Fraction(0)
    for b in cert["model"]["content"]["blocks"]:
        for layer in (b["sa"], b["ff"]):
            if layer is None:
                continue
            def walk(x):
                nonlocal total
                if isinstance(x, list):
                    for y in x: walk(y)
                elif isinstance(x, dict):
                    for y in x.values(): walk(y)
                else:
                    total += Fraction(x) ** 2
            walk(layer)
    cert["claims"]["squared_norm"] = str(total.numerator) if total.denominator == 1 else f"{total.numerator}/{total.denominator}"
    return json.dumps(cert, indent=1)

ex = os.path.join(here, "..", "..", "examples")
top_ds, top = certify(os.path.join(ex, "shared_top.json"), "shared_top")
two_ds, two = certify(os.path.join(ex, "two_sequences.json"), "two_sequences", ["--max-ff-width", "4"])
expect("shared_top.cert.json", top_ds, 0, "VERIFIED (6 claims)")
soft_ds, soft = certify(os.path.join(ex, "shared_top.json"), "shared_top_softmax", ["--softmax", "--beta", "8"])
expect("shared_top_softmax.cert.json", soft_ds, 0, "VERIFIED (6 claims)")
expect("two_sequences.cert.json", two_ds, 0, "VERIFIED (6 claims)")

def variant(name, text, dataset, status, must):
    write("tampered_" + name + ".cert.json", text)
    expect("tampered_" + name + ".cert.json", dataset, status, must)

# A parameter changed, digest left alone: the model is not the one named.
c = json.loads(top); c["model"]["content"]["blocks"][-1]["ff"]["b"][0] = "12345/7"
variant("param_changed", json.dumps(c, indent=1), top_ds, 1, "model-digest: REFUTED")
# A parameter changed and the digest and norm recomputed: the forward pass refutes it.
def bump_last_W(m): m["blocks"][-1]["ff"]["W"][0][0] = "1000"
variant("param_changed_redigested", redigest(top, bump_last_W), top_ds, 1, "interpolation: REFUTED")
def bump_rho(m): m["blocks"][1]["sa"]["rho"] = "2"
variant("rho_changed_redigested", redigest(top, bump_rho), top_ds, 1, "interpolation: REFUTED")
# A target changed in the dataset: another dataset, and the outputs no longer match.
d = json.load(open(os.path.join(here, top_ds))); d["sequences"][1]["output"][0] = ["2", "3"]
write("target_changed.dataset.json", json.dumps(d, indent=1))
expect("shared_top.cert.json", "target_changed.dataset.json", 1, "dataset-digest: REFUTED")
expect("shared_top.cert.json", "target_changed.dataset.json", 1, "interpolation: REFUTED")
# Edited claims.
c = json.loads(top); c["claims"]["hypotheses"]["H3"] = False
variant("claim_hypothesis_edited", json.dumps(c, indent=1), top_ds, 1, "hypotheses: REFUTED")
c = json.loads(top); c["claims"]["counts"]["blocks"] += 1
variant("count_blocks_edited", json.dumps(c, indent=1), top_ds, 1, "counts: REFUTED")
c = json.loads(top); c["claims"]["counts"]["parameters"] -= 1
variant("count_parameters_edited", json.dumps(c, indent=1), top_ds, 1, "counts: REFUTED")
c = json.loads(top); c["claims"]["counts"]["block_bound"] = 1
variant("count_bound_edited", json.dumps(c, indent=1), top_ds, 1, "counts: REFUTED")
c = json.loads(top); c["claims"]["squared_norm"] = "1/2"
variant("squared_norm_edited", json.dumps(c, indent=1), top_ds, 1, "squared_norm: REFUTED")
c = json.loads(top); c["claims"]["interpolation"]["outputs"] = 5
variant("outputs_edited", json.dumps(c, indent=1), top_ds, 1, "interpolation: REFUTED")
c = json.loads(top); c["claims"]["softmax_bound"] = "0"
variant("unknown_claim", json.dumps(c, indent=1), top_ds, 1, "softmax_bound: REFUTED")
exact_ds, exact = certify(os.path.join(ex, "shared_top.json"), "shared_top_softmax_exact", ["--softmax", "--exact"])
expect("shared_top_softmax_exact.cert.json", exact_ds, 0, "exactly under softmax")
variant("softmax_exact_beta_lowered", redigest(exact, lower_beta_tiny := (lambda m: m.__setitem__("beta", "1/100"))), exact_ds, 1,
        "interpolation: REFUTED")
# Softmax: a claimed bound far below what can be certified; beta lowered with the digest recomputed.
c = json.loads(soft); c["claims"]["interpolation"]["bound"] = "1/10000000000000000000000000000000000000000000000000"
variant("softmax_bound_too_small", json.dumps(c, indent=1), soft_ds, 1, "interpolation: REFUTED")
def lower_beta(m): m["beta"] = "1"
variant("softmax_beta_lowered", redigest(soft, lower_beta), soft_ds, 1, "interpolation: REFUTED")
c = json.loads(soft); c["claims"]["interpolation"] = {"kind": "exact", "outputs": 4}
variant("softmax_claimed_exact", json.dumps(c, indent=1), soft_ds, 1, "interpolation: REFUTED")
# Each kind of interpolation claim reaches its own check (a claim routed to the hardmax forward
# pass, whose outputs here are the targets, would wrongly verify these).
def drop_staircase(m): m["blocks"].pop()
c = json.loads(redigest(exact, drop_staircase)); del c["claims"]["counts"]
variant("softmax_exact_no_staircase", json.dumps(c, indent=1), exact_ds, 1,
        "interpolation: REFUTED (4 output tokens not shown exact; first: the model does not end in one feed-forward layer with eta = 0)")
c = json.loads(soft); c["claims"]["interpolation"] = {"kind": "exact", "outputs": 4, "precision": 256}
variant("softmax_bounded_claimed_exact_with_precision", json.dumps(c, indent=1), soft_ds, 1,
        "the model does not end in one feed-forward layer with eta = 0")
c = json.loads(exact); del c["claims"]["interpolation"]["precision"]
variant("softmax_exact_without_precision", json.dumps(c, indent=1), exact_ds, 1, "needs \"precision\"")
c = json.loads(top); c["claims"]["interpolation"] = {"kind": "bounded", "outputs": 4, "bound": "1", "precision": 64}
variant("hardmax_claimed_bounded", json.dumps(c, indent=1), top_ds, 1,
        "a claim of kind \"bounded\" about a hardmax model: no such kind of claim")
c = json.loads(top); c["claims"]["interpolation"]["precision"] = 256
variant("hardmax_exact_with_precision", json.dumps(c, indent=1), top_ds, 2, "does not belong to a claim of kind \"exact\" about a hardmax model")
# beta is not a parameter (formats-v1.md, "Parameter count"): counting it in P or |theta|^2 is refuted.
c = json.loads(soft); c["claims"]["counts"]["parameters"] += 1
variant("softmax_parameters_count_beta", json.dumps(c, indent=1), soft_ds, 1, "counts: REFUTED (parameters is")
from fractions import Fraction
c = json.loads(soft); c["claims"]["squared_norm"] = str(Fraction(c["claims"]["squared_norm"]) + Fraction(c["model"]["content"]["beta"]) ** 2)
variant("softmax_squared_norm_with_beta", json.dumps(c, indent=1), soft_ds, 1, "squared_norm: REFUTED")
# IEEE floating point (proofs/float-bound.md): every round-to-nearest binary64 evaluation within
# the bound; the checker re-derives it with its own analysis (src/checker/float.cpp).
flt_ds, flt = certify(os.path.join(ex, "shared_top.json"), "shared_top_float64", ["--float", "binary64", "--epsilon", "1/1000"])
expect("shared_top_float64.cert.json", flt_ds, 0, "every IEEE binary64 round-to-nearest evaluation")
c = json.loads(flt); c["claims"]["interpolation"]["bound"] = "1/1000000000"
variant("float_bound_too_small", json.dumps(c, indent=1), flt_ds, 1, "interpolation: REFUTED (the checker bounds")
c = json.loads(flt); c["claims"]["interpolation"]["format"] = "binary32"
variant("float_format_changed", json.dumps(c, indent=1), flt_ds, 1, "interpolation: REFUTED (the checker bounds max |fl(output) - target| in binary32")
c = json.loads(flt); c["claims"]["interpolation"]["format"] = "binary16"
variant("float_format_unknown", json.dumps(c, indent=1), flt_ds, 1, "unknown float format")
c = json.loads(flt); c["claims"]["interpolation"]["exp_ulps"] = 0
variant("float_exp_ulps_added", json.dumps(c, indent=1), flt_ds, 2, "\"exp_ulps\" does not belong to a claim of kind \"float\" about a hardmax model")
c = json.loads(flt); del c["claims"]["interpolation"]["format"]
variant("float_without_format", json.dumps(c, indent=1), flt_ds, 1, "needs \"format\"")
# A softmax model in IEEE binary64 (exp accurate to exp_ulps ulps; src/checker/float_softmax.cpp).
sf_ds, sf = certify(os.path.join(ex, "shared_top.json"), "shared_top_softmax_float64",
                    ["--softmax", "--beta", "4", "--exact", "--float", "binary64", "--epsilon", "1/1000000"])
expect("shared_top_softmax_float64.cert.json", sf_ds, 0, "exp accurate to 2 ulps) has max |fl(output) - target|")
c = json.loads(sf); c["claims"]["interpolation"]["bound"] = "1/1000000000000000"
variant("softmax_float_bound_too_small", json.dumps(c, indent=1), sf_ds, 1, "interpolation: REFUTED (the checker bounds")
# (Raising exp_ulps is not refuted here: the staircase layer snaps the output to the target, so the
# exponentials' errors do not reach it; tests/float_softmax_test.cpp refutes it where they do.)
c = json.loads(sf); c["claims"]["interpolation"]["format"] = "binary32"
variant("softmax_float_format_changed", json.dumps(c, indent=1), sf_ds, 1, "interpolation: REFUTED (the checker bounds max |fl(output) - target| in binary32")
c = json.loads(sf); del c["claims"]["interpolation"]["exp_ulps"]
variant("softmax_float_without_exp_ulps", json.dumps(c, indent=1), sf_ds, 1, "needs \"exp_ulps\"")
c = json.loads(sf); c["claims"]["interpolation"]["exp_ulps"] = -1
variant("softmax_float_exp_ulps_negative", json.dumps(c, indent=1), sf_ds, 2, "exp_ulps")
# The digest of another dataset.
c = json.loads(top); c["dataset"]["digest"] = json.loads(two)["dataset"]["digest"]
variant("other_dataset_digest", json.dumps(c, indent=1), top_ds, 1, "dataset-digest: REFUTED")
# The right certificate with the wrong dataset.
expect("shared_top.cert.json", two_ds, 1, "dataset-digest: REFUTED")
# A future major version, truncation, and a non-certificate: unreadable, exit 2.
c = json.loads(top); c["version"] = 2
variant("future_version", json.dumps(c, indent=1), top_ds, 2, "unknown major version 2")
variant("truncated", top[: len(top) // 2], top_ds, 2, "invalid JSON")
c = json.loads(top); c["model"]["content"]["blocks"][0]["ff"]["W"][0][0] = "NaN"
variant("nan_in_model", json.dumps(c, indent=1), top_ds, 2, "/model/content/blocks/0/ff/W/0/0")
write("expectations.txt", "# certificate dataset exit-status text-in-output\n" + "\n".join(rows) + "\n")
print(f"{len(rows)} expectations written")
