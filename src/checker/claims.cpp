#include "claims.hpp"

#include "float.hpp"
#include "forward.hpp"
#include "forward_fast.hpp"
#include "hypotheses.hpp"
#include "interpcert/document_kind.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/model.hpp"
#include "interpcert/text_util.hpp"
#include "phase_times.hpp"
#include "softmax.hpp"
#include "square_sum.hpp"
#include "workers.hpp"

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <memory>
#include <mutex>

namespace interpcert::checker {
namespace {

Finding verified(std::string claim, std::string detail, std::size_t checked = 0) {
  return {std::move(claim), true, std::move(detail), checked};
}
Finding refuted(std::string claim, std::string detail, std::size_t checked = 0) {
  return {std::move(claim), false, std::move(detail), checked};
}


// The sizes the checker recomputes on its own.
struct Sizes {
  std::size_t blocks = 0, parameters = 0, max_ff_width = 0, max_heads = 0;
  Rational squared_norm;
};

Sizes sizes_of(const Model& m) {
  Sizes s;
  s.blocks = m.blocks.size();
  SumOfSquares squares;  // square_sum.hpp
  auto add = [&](const std::vector<Rational>& xs) {
    s.parameters += xs.size();
    for (const auto& x : xs) squares.add(x);
  };
  // A feed-forward W column by column: a column is one neuron (of a hat), its entries mostly share
  // a denominator, and SumOfSquares tries the last one first. In blocks of columns, so that the
  // row-major W is still read in order. (The order does not change the exact sum.)
  auto add_by_columns = [&](const Matrix& a) {
    s.parameters += a.a.size();
    for (std::size_t j0 = 0; j0 < a.cols; j0 += 256)
      for (std::size_t j = j0; j < std::min(a.cols, j0 + 256); ++j)
        for (std::size_t r = 0; r < a.rows; ++r) squares.add(a(r, j));
  };
  for (const Block& b : m.blocks) {
    if (b.sa) {
      add({b.sa->rho});
      add(b.sa->Q.a);
      add(b.sa->K.a);
      if (b.sa->factored) {
        add(b.sa->Vleft.a);
        add(b.sa->Vright.a);
      } else {
        add(b.sa->V.a);
      }
      s.max_heads = std::max(s.max_heads, b.sa->Q.rows);
    }
    if (b.ff) {
      add({b.ff->eta});
      add(b.ff->U.a);
      add(b.ff->b);
      add_by_columns(b.ff->W);
      s.max_ff_width = std::max(s.max_ff_width, b.ff->U.rows);
    }
  }
  s.squared_norm = squares.total();
  return s;
}

// What every interpolation check is given: the claim's JSON, the embedded model, the dataset,
// Σ m_j, and which sequences to run (j % shards == shard).
struct InterpolationInput {
  const JsonNode& claim;
  const Model& m;
  const Dataset& ds;
  std::size_t outputs;
  unsigned threads;
  std::size_t shard, shards;
  bool structured;
};

const std::string kInterpolation = "interpolation";

// The precision a certificate may ask for is capped (claims.hpp, proofs/certificate-v1.md).
long precision_of(const JsonNode& claim) {
  return static_cast<long>(claim.at("precision").integer(kMinPrecision, kMaxPrecision));
}

// The output tokens this run checks (its shard's), and how to name them in a finding.
std::string scope_text(const InterpolationInput& in, std::size_t checked) {
  if (in.shards > 1)
    return count_of(checked, "output token") + " of shard " + std::to_string(in.shard) + "/" + std::to_string(in.shards);
  return checked == 1 ? "the one output token" : "all " + std::to_string(checked) + " output tokens";
}
const char* equal_their_targets(std::size_t n) { return n == 1 ? " equals its target" : " equal their targets"; }

// kind "exact", hardmax model: the exact rational forward pass on every sequence.
Finding check_exact_hardmax(const InterpolationInput& in) {
  const Model& m = in.m;
  const Dataset& ds = in.ds;
  // Sequences are independent: spread them over threads; report the first mismatch in order.
  std::vector<std::size_t> mine;
  for (std::size_t j = in.shard; j < ds.sequences.size(); j += in.shards) mine.push_back(j);
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::size_t first_bad = SIZE_MAX, bad_count = 0;
  std::string first_detail;
  std::unique_ptr<StructuredModel> fast;
  if (in.structured) fast = std::make_unique<StructuredModel>(m);
  phase_done("fast: tabulation");
  std::atomic<std::size_t> done{0};  // output tokens compared, counted as the work is done
  auto work = [&] {
    for (std::size_t i; (i = next++) < mine.size();) {
      std::size_t j = mine[i];
      const Sequence& s = ds.sequences[j];
      done += s.output.size();
      // --fast computes the target positions only (out[k] is position s.positions[k]'s token).
      std::vector<Vec> out = fast ? fast->forward(s.input, s.positions) : forward_hardmax(m, s.input);
      for (std::size_t k = 0; k < s.output.size(); ++k) {
        if (out[fast ? k : s.positions[k]] == s.output[k]) continue;
        std::lock_guard<std::mutex> g(mu);
        ++bad_count;
        if (j < first_bad) {
          first_bad = j;
          first_detail = "sequence " + std::to_string(j) + ", position " + std::to_string(s.positions[k]) + ": " +
                         vec_text(out[fast ? k : s.positions[k]]) + " != target " + vec_text(s.output[k]);
        }
      }
    }
  };
  run_workers(in.threads, work);
  phase_done("forward pass");
  const std::size_t checked = done;
  if (bad_count)
    return refuted(kInterpolation, count_of(bad_count, "output token") +
                                       (bad_count == 1 ? " differs from its target" : " differ from their targets") +
                                       "; first: " + first_detail,
                   checked);
  return verified(kInterpolation, scope_text(in, checked) + equal_their_targets(checked) +
                                      " (hardmax forward pass in exact rational arithmetic" +
                                      (in.structured ? ", structured evaluation --fast" : "") + ")",
                  checked);
}

// kind "exact", softmax model: the last layer (eta = 0) has known signs on every output token's
// MPFI enclosure and selects the constant target.
Finding check_exact_softmax(const InterpolationInput& in) {
  long precision = precision_of(in.claim);
  std::string first;
  std::size_t checked = 0;
  std::size_t bad = softmax_exact_failures(in.m, in.ds, precision, in.threads, in.shard, in.shards, first, &checked);
  if (bad) return refuted(kInterpolation, count_of(bad, "output token") + " not shown exact; first: " + first, checked);
  return verified(kInterpolation, scope_text(in, checked) + equal_their_targets(checked) +
                                      " exactly under softmax (beta = " +
                                      rational_to_string(*in.m.beta) + "): on each token's MPFI enclosure (" +
                                      std::to_string(precision) + " bits) every neuron of the final eta = 0 layer has "
                                      "a known sign, and the affine map they select is the constant target (exact "
                                      "rationals)",
                  checked);
}

// kind "bounded", softmax model: the checker's own MPFI bound must not exceed the claimed one.
Finding check_bounded_softmax(const InterpolationInput& in) {
  Rational claimed_bound = in.claim.at("bound").rational();
  long precision = precision_of(in.claim);
  bool finite = true;
  std::size_t checked = 0;
  Rational own = softmax_error_bound(in.m, in.ds, precision, in.threads, in.shard, in.shards, finite, &checked);
  if (!finite)
    return refuted(kInterpolation, "an enclosure is unbounded at " + std::to_string(precision) + " bits", checked);
  char approx[48];
  std::snprintf(approx, sizeof approx, "%.3g", own.convert_to<double>());
  std::string own_text = std::string("~") + approx + " (exact comparison)";
  if (own > claimed_bound)
    return refuted(kInterpolation, "the checker certifies max |output - target| <= " + own_text + " (MPFI intervals, " +
                                       std::to_string(precision) + " bits), which does not establish the claimed bound " +
                                       rational_to_string(claimed_bound),
                   checked);
  return verified(kInterpolation, "max |output - target| <= " + own_text + " <= the claimed " +
                                      rational_to_string(claimed_bound) + " over " +
                                      scope_text(in, checked) + " (softmax, beta = " + rational_to_string(*in.m.beta) +
                                      ", MPFI intervals at " + std::to_string(precision) + " bits, outward rounding)",
                  checked);
}

// The IEEE formats a float claim may name: significand bits p and normal exponents emin..emax.
bool float_format(const std::string& name, long& p, long& emin, long& emax) {
  if (name == "binary64") p = 53, emin = -1022, emax = 1023;
  else if (name == "binary32") p = 24, emin = -126, emax = 127;
  else return false;
  return true;
}

// kind "float", hardmax model: the checker's own analysis of every IEEE round-to-nearest
// evaluation in the format (proofs/float-bound.md) must give a bound <= the claimed one.
Finding check_float_hardmax(const InterpolationInput& in) {
  std::string format = in.claim.at("format").string();
  long p = 0, emin = 0, emax = 0;
  if (!float_format(format, p, emin, emax))
    return refuted(kInterpolation, "unknown float format \"" + format + "\" (binary64 or binary32)");
  Rational claimed_bound = in.claim.at("bound").rational();
  std::string why;
  std::size_t checked = 0;
  auto own = float_error_bound(in.m, in.ds, p, emin, emax, in.shard, in.shards, why, &checked);
  if (!own) return refuted(kInterpolation, "no bound in " + format + ": " + why, checked);
  char approx[48];
  std::snprintf(approx, sizeof approx, "%.3g", own->convert_to<double>());
  if (*own > claimed_bound)
    return refuted(kInterpolation, "the checker bounds max |fl(output) - target| in " + format + " by ~" + approx +
                                       ", which does not establish the claimed bound " + rational_to_string(claimed_bound),
                   checked);
  return verified(kInterpolation, "every IEEE " + format + " round-to-nearest evaluation (any order, FMA or not) "
                                  "has max |fl(output) - target| <= ~" + std::string(approx) + " <= the claimed " +
                                  rational_to_string(claimed_bound) + " over " + scope_text(in, checked) +
                                  " (proofs/float-bound.md; MPFR, rounding upward)",
                  checked);
}

// kind "float", softmax model: the checker's own analysis (MPFI, src/checker/float_softmax.cpp) of
// every IEEE round-to-nearest evaluation, exp accurate to exp_ulps ulps, must give a bound <= the
// claimed one.
Finding check_float_softmax(const InterpolationInput& in) {
  std::string format = in.claim.at("format").string();
  long p = 0, emin = 0, emax = 0;
  if (!float_format(format, p, emin, emax))
    return refuted(kInterpolation, "unknown float format \"" + format + "\" (binary64 or binary32)");
  // K = 0 (exact exp) is checked as K = 1: Lemma AV's overflow argument needs K >= 1, and every
  // evaluation with a 0-ulp exp is one with a 1-ulp exp, so a bound for K = 1 holds for K = 0.
  const long k = std::max(1L, static_cast<long>(in.claim.at("exp_ulps").integer(0, 1 << 20)));
  Rational claimed_bound = in.claim.at("bound").rational();
  std::string why;
  std::size_t checked = 0;
  auto own = float_softmax_error_bound(in.m, in.ds, p, emin, emax, k, in.shard, in.shards, why, &checked);
  if (!own)
    return refuted(kInterpolation, "no bound in " + format + " (softmax, exp to " + std::to_string(k) + " ulps): " + why,
                   checked);
  char approx[48];
  std::snprintf(approx, sizeof approx, "%.3g", own->convert_to<double>());
  if (*own > claimed_bound)
    return refuted(kInterpolation, "the checker bounds max |fl(output) - target| in " + format + " (exp to " +
                                       std::to_string(k) + " ulps) by ~" + approx +
                                       ", which does not establish the claimed bound " + rational_to_string(claimed_bound),
                   checked);
  return verified(kInterpolation, "every IEEE " + format + " round-to-nearest evaluation (any order, FMA or not; "
                                  "softmax at beta = " + rational_to_string(*in.m.beta) + " with the row maximum "
                                  "subtracted, exp accurate to " + std::to_string(k) + " ulps) has max |fl(output) - "
                                  "target| <= ~" + std::string(approx) + " <= the claimed " +
                                  rational_to_string(claimed_bound) + " over " + scope_text(in, checked) +
                                  " (proofs/float-bound.md; MPFI intervals)",
                  checked);
}

// The kinds of interpolation claim (proofs/certificate-v1.md): the certificate's "kind", the
// attention of the model it is about, the members it carries besides "kind" and "outputs" (all
// required), and the one function that re-derives it. A claim matching no row is refuted. To
// add a kind: one function above and one row here (see include/interpcert/interpolation_claim.hpp).
struct InterpolationKind {
  const char* kind;
  AttentionKind attention;
  std::vector<std::string> members;
  Finding (*check)(const InterpolationInput&);
};

const std::vector<InterpolationKind>& interpolation_kinds() {
  static const std::vector<InterpolationKind> kinds = {
      {"exact", AttentionKind::Hardmax, {}, check_exact_hardmax},
      {"exact", AttentionKind::Softmax, {"precision"}, check_exact_softmax},
      {"bounded", AttentionKind::Softmax, {"bound", "precision"}, check_bounded_softmax},
      {"float", AttentionKind::Hardmax, {"format", "bound"}, check_float_hardmax},
      {"float", AttentionKind::Softmax, {"format", "bound", "exp_ulps"}, check_float_softmax},
  };
  return kinds;
}

std::string attention_name(AttentionKind a) { return a == AttentionKind::Softmax ? "softmax" : "hardmax"; }

// Reads the claim's common part, finds its row, and runs that row's check.
Finding check_interpolation(const JsonNode& claim, const Model& m, const Dataset& ds, unsigned threads,
                            std::size_t shard, std::size_t shards, bool structured) {
  const auto& kinds = interpolation_kinds();
  std::vector<std::string> allowed = {"kind", "outputs"}, names;
  for (const auto& k : kinds) {
    for (const auto& key : k.members)
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) allowed.push_back(key);
    if (std::find(names.begin(), names.end(), k.kind) == names.end()) names.push_back(k.kind);
  }
  if (!claim.is_object()) claim.fail("expected an object");
  for (const std::string& key : claim.keys())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      claim.at(key).fail("unknown field \"" + clip_for_message(key) + "\" (expected one of: " + list + ")");
    }
  std::string kind = claim.at("kind").string();
  if (std::find(names.begin(), names.end(), kind) == names.end()) {
    std::string expected;
    for (std::size_t i = 0; i < names.size(); ++i)
      expected += std::string(i ? (i + 1 == names.size() ? " or " : ", ") : "") + "\"" + names[i] + "\"";
    claim.at("kind").fail("expected " + expected);
  }
  std::size_t outputs = 0;
  for (const auto& s : ds.sequences) outputs += s.output.size();
  auto claimed = static_cast<std::size_t>(claim.at("outputs").integer(0, INT64_MAX));
  if (claimed != outputs)
    return refuted(kInterpolation, "the certificate counts " + count_of(claimed, "output token") + ", the dataset has " +
                                       std::to_string(outputs));
  if (m.d != ds.d)
    return refuted(kInterpolation,
                   "the model has d = " + std::to_string(m.d) + ", the dataset d = " + std::to_string(ds.d));
  // --fast is a hardmax evaluator: refused, not ignored, for a softmax model.
  if (structured && m.attention != AttentionKind::Hardmax)
    throw InputError("--fast", "", "applies to certificates about hardmax models only; this one's model is " +
                                       attention_name(m.attention));
  auto row = std::find_if(kinds.begin(), kinds.end(),
                          [&](const InterpolationKind& k) { return kind == k.kind && m.attention == k.attention; });
  const std::string about = "a claim of kind \"" + kind + "\" about a " + attention_name(m.attention) + " model";
  if (row == kinds.end()) return refuted(kInterpolation, about + ": no such kind of claim");
  // A member of another kind's claim: the certificate is malformed, not merely false.
  for (const auto& key : allowed)
    if (key != "kind" && key != "outputs" && claim.has(key) &&
        std::find(row->members.begin(), row->members.end(), key) == row->members.end())
      claim.at(key).fail("\"" + key + "\" does not belong to " + about);
  for (const auto& key : row->members)
    if (!claim.has(key)) return refuted(kInterpolation, about + " needs \"" + key + "\"");
  return row->check({claim, m, ds, outputs, threads, shard, shards, structured});
}

Finding check_counts(const JsonNode& claim, const Sizes& sz, const Dataset& ds) {
  const std::string name = "counts";
  if (!claim.is_object() || claim.keys().empty()) claim.fail("expected a non-empty object of counts (omit it to claim none)");
  claim.only_keys({"N", "sum_m", "blocks", "parameters", "max_ff_width", "max_heads", "block_bound",
                   "paper_hardmax_block_bound", "paper_softmax_block_bound"});
  std::size_t N = ds.sequences.size(), sum_m = 0;
  for (const auto& s : ds.sequences) sum_m += s.output.size();
  const std::pair<const char*, std::size_t> actual[] = {
      {"N", N},
      {"sum_m", sum_m},
      {"blocks", sz.blocks},
      {"parameters", sz.parameters},
      {"max_ff_width", sz.max_ff_width},
      {"max_heads", sz.max_heads},
      {"block_bound", sum_m + N},
      {"paper_hardmax_block_bound", 2 * sum_m + 2 * N + 1},
      {"paper_softmax_block_bound", 2 * sum_m + 3 * N},
  };
  std::string shown;
  for (const auto& [key, value] : actual) {
    if (!claim.has(key)) continue;
    auto c = static_cast<std::size_t>(claim.at(key).integer(0, INT64_MAX));
    if (c != value)
      return refuted(name, std::string(key) + " is " + std::to_string(value) + ", the certificate says " + std::to_string(c));
    shown += std::string(shown.empty() ? "" : ", ") + key + " = " + std::to_string(value);
  }
  if (claim.has("block_bound") && sz.blocks > sum_m + N)
    return refuted(name, "blocks = " + std::to_string(sz.blocks) + " exceeds sum m_j + N = " + std::to_string(sum_m + N));
  if (claim.has("paper_hardmax_block_bound") && sz.blocks > 2 * sum_m + 2 * N + 1)
    return refuted(name, "blocks exceed the paper's bound 2 sum m_j + 2N + 1");
  if (claim.has("paper_softmax_block_bound") && sz.blocks > 2 * sum_m + 3 * N)
    return refuted(name, "blocks exceed the paper's softmax bound 2 sum m_j + 3N");
  return verified(name, shown + (claim.has("block_bound") ? "; blocks <= every stated bound" : ""));
}

}  // namespace

std::vector<Finding> check_certificate(const JsonDocument& doc, const Dataset& ds, unsigned threads,
                                       std::size_t shard, std::size_t shards, bool structured) {
  JsonNode root = JsonNode::root_of(doc);
  // 1. Format and version: an unknown major version is unreadable, not refuted.
  require_format(root, "interpcert-certificate");
  auto version = root.at("version").integer(0, INT32_MAX);
  if (version != kKnownMajorVersion)
    root.at("version").fail("unknown major version " + std::to_string(version) + " (this checker knows version " +
                            std::to_string(kKnownMajorVersion) + ")");
  root.only_keys({"format", "version", "producer", "dataset", "model", "claims"});
  std::vector<Finding> out;

  // 2. The dataset the certificate is about.
  root.at("dataset").only_keys({"digest"});
  std::string claimed_ds = root.at("dataset").at("digest").string(), actual_ds = dataset_digest(ds);
  phase_done("dataset digest");
  out.push_back(claimed_ds == actual_ds
                    ? verified("dataset-digest", "sha256 " + actual_ds + " of the dataset's canonical text")
                    : refuted("dataset-digest", "the dataset's canonical digest is " + actual_ds +
                                                    ", the certificate names " + claimed_ds +
                                                    " (a certificate for another dataset, or the dataset changed)"));

  // 3. The embedded model and its digest.
  JsonNode mnode = root.at("model");
  mnode.only_keys({"digest", "content"});
  Model m = model_from_json(mnode.at("content"));
  phase_done("model parse");
  std::string claimed_m = mnode.at("digest").string(), actual_m = model_digest(m);
  phase_done("model digest");
  out.push_back(claimed_m == actual_m ? verified("model-digest", "sha256 " + actual_m + " of the embedded model")
                                      : refuted("model-digest", "the embedded model's canonical digest is " + actual_m +
                                                                    ", the certificate says " + claimed_m));

  // 4-7. The claims, in a fixed order; any other claim is refuted as unverifiable.
  JsonNode claims = root.at("claims");
  if (!claims.is_object()) claims.fail("expected an object of claims");
  for (const std::string& key : claims.keys()) {
    static const char* known[] = {"hypotheses", "mask", "obstructions", "interpolation", "counts", "squared_norm"};
    if (std::find_if(std::begin(known), std::end(known), [&](const char* k) { return key == k; }) == std::end(known))
      out.push_back(refuted(key, "unknown claim: this checker cannot verify it"));
  }
  if (claims.has("hypotheses")) {
    JsonNode h = claims.at("hypotheses");
    // An empty object claims nothing: it must not print "VERIFIED ()" as if something were checked.
    if (!h.is_object() || h.keys().empty()) h.fail("expected a non-empty object of hypotheses (omit it to claim none)");
    std::string shown, failed;
    for (const std::string& key : h.keys()) {
      JsonNode v = h.at(key);
      if (!v.is_boolean()) v.fail("expected true or false");
      std::string why;
      bool holds = hypothesis_holds(ds, key, why);
      if (why == "unknown hypothesis") {
        failed = key + ": unknown hypothesis";
        break;
      }
      if (v.boolean() != holds) {
        failed = key + " is claimed to " + (holds ? "fail" : "hold") + " but " + (holds ? "holds" : "fails: " + why);
        break;
      }
      shown += (shown.empty() ? "" : ", ") + key + (holds ? " holds" : " fails");
    }
    out.push_back(failed.empty() ? verified("hypotheses", shown) : refuted("hypotheses", failed));
  }
  if (claims.has("mask")) {  // optional (certificate-v1.md): the embedded model's mask
    std::string claimed = claims.at("mask").string();
    bool ok = claimed == "causal" ? m.mask == MaskKind::Causal : claimed == "none" && m.mask == MaskKind::None;
    out.push_back(ok ? verified("mask", "the embedded model's attention mask is " + claimed)
                     : refuted("mask", "the certificate says \"" + claimed + "\", the embedded model's mask is " +
                                           (m.mask == MaskKind::Causal ? "causal" : "none")));
  }
  if (claims.has("obstructions")) {  // optional: O1, O2 (no mask) or C1 (causal), re-decided here
    JsonNode h = claims.at("obstructions");
    // Like hypotheses: an empty object claims nothing and must not print "VERIFIED ()".
    if (!h.is_object() || h.keys().empty()) h.fail("expected a non-empty object of obstructions (omit it to claim none)");
    std::string shown, failed;
    for (const std::string& key : h.keys()) {
      JsonNode v = h.at(key);
      if (!v.is_boolean()) v.fail("expected true or false");
      std::string why;
      bool found = obstruction_found(ds, key, why);
      if (why == "unknown obstruction") {
        failed = key + ": unknown obstruction";
        break;
      }
      if (v.boolean() != found) {
        failed = key + " is claimed " + (found ? "absent but is present: " + why : "present but is absent");
        break;
      }
      shown += (shown.empty() ? "" : ", ") + key + (found ? " present" : " absent");
    }
    out.push_back(failed.empty() ? verified("obstructions", shown) : refuted("obstructions", failed));
  }
  phase_done("hypotheses, obstructions");
  if (!claims.has("interpolation")) claims.fail("missing the \"interpolation\" claim");
  out.push_back(check_interpolation(claims.at("interpolation"), m, ds, threads, shard, shards, structured));
  phase_done("interpolation claim");
  Sizes sz = sizes_of(m);
  phase_done("counts, |theta|^2");
  if (claims.has("counts")) out.push_back(check_counts(claims.at("counts"), sz, ds));
  if (claims.has("squared_norm")) {
    Rational claimed = claims.at("squared_norm").rational();
    out.push_back(claimed == sz.squared_norm
                      ? verified("squared_norm", "|theta|^2 = " + rational_short(sz.squared_norm) + ", equal to the claim (exact)")
                      : refuted("squared_norm", "|theta|^2 is " + rational_short(sz.squared_norm) +
                                                    ", the certificate says " + rational_short(claimed)));
  }
  return out;
}

}  // namespace interpcert::checker
