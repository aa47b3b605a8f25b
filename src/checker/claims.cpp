#include "claims.hpp"

#include "forward.hpp"
#include "forward_fast.hpp"
#include "hypotheses.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/model.hpp"
#include "interpcert/text_util.hpp"
#include "softmax.hpp"

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

namespace interpcert::checker {
namespace {

Finding verified(std::string claim, std::string detail) { return {std::move(claim), true, std::move(detail)}; }
Finding refuted(std::string claim, std::string detail) { return {std::move(claim), false, std::move(detail)}; }


// The sizes the checker recomputes on its own.
struct Sizes {
  std::size_t blocks = 0, parameters = 0, max_ff_width = 0, max_heads = 0;
  Rational squared_norm;
};

Sizes sizes_of(const Model& m) {
  Sizes s;
  s.blocks = m.blocks.size();
  auto add = [&](const std::vector<Rational>& xs) {
    s.parameters += xs.size();
    for (const auto& x : xs) s.squared_norm += x * x;
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
      add(b.ff->W.a);
      s.max_ff_width = std::max(s.max_ff_width, b.ff->U.rows);
    }
  }
  return s;
}

Finding check_exact_interpolation(const JsonNode& claim, const Model& m, const Dataset& ds, unsigned threads,
                                  std::size_t shard, std::size_t shards, bool structured) {
  const std::string name = "interpolation";
  claim.only_keys({"kind", "outputs", "bound", "precision"});
  std::string kind = claim.at("kind").string();
  if (kind != "exact" && kind != "bounded") claim.at("kind").fail("expected \"exact\" or \"bounded\"");
  std::size_t outputs = 0;
  for (const auto& s : ds.sequences) outputs += s.output.size();
  auto claimed = static_cast<std::size_t>(claim.at("outputs").integer(0, INT64_MAX));
  if (claimed != outputs)
    return refuted(name, "the certificate counts " + std::to_string(claimed) + " output tokens, the dataset has " +
                             std::to_string(outputs));
  if (m.d != ds.d)
    return refuted(name, "the model has d = " + std::to_string(m.d) + ", the dataset d = " + std::to_string(ds.d));
  if (kind == "bounded") {
    if (m.attention != AttentionKind::Softmax) return refuted(name, "a bounded error is claimed for a hardmax model");
    Rational claimed_bound = claim.at("bound").rational();
    long precision = static_cast<long>(claim.at("precision").integer(2, 1 << 20));
    bool finite = true;
    Rational own = softmax_error_bound(m, ds, precision, threads, shard, shards, finite);
    if (!finite) return refuted(name, "an enclosure is unbounded at " + std::to_string(precision) + " bits");
    char approx[48];
    std::snprintf(approx, sizeof approx, "%.3g", own.convert_to<double>());
    std::string own_text = std::string("~") + approx + " (exact comparison)";
    if (own > claimed_bound)
      return refuted(name, "the checker certifies max |output - target| <= " + own_text + " (MPFI intervals, " +
                               std::to_string(precision) + " bits), which does not establish the claimed bound " +
                               rational_to_string(claimed_bound));
    return verified(name, "max |output - target| <= " + own_text + " <= the claimed " + rational_to_string(claimed_bound) +
                              " over " + std::to_string(outputs) + " output tokens (softmax, beta = " +
                              rational_to_string(*m.beta) + ", MPFI intervals at " + std::to_string(precision) +
                              " bits, outward rounding)");
  }
  if (claim.has("bound")) claim.at("bound").fail("\"bound\" belongs to \"bounded\" claims");
  if (m.attention == AttentionKind::Softmax) {
    if (!claim.has("precision")) return refuted(name, "exact interpolation under softmax needs a \"precision\"");
    long precision = static_cast<long>(claim.at("precision").integer(2, 1 << 20));
    std::string first;
    std::size_t bad = softmax_exact_failures(m, ds, precision, threads, shard, shards, first);
    if (bad) return refuted(name, std::to_string(bad) + " output token(s) not shown exact; first: " + first);
    return verified(name, "all " + std::to_string(outputs) + " output tokens equal their targets exactly under softmax "
                              "(beta = " + rational_to_string(*m.beta) + "): on each token's MPFI enclosure (" +
                              std::to_string(precision) + " bits) every neuron of the final eta = 0 layer has a known "
                              "sign, and the affine map they select is the constant target (exact rationals)");
  }
  if (claim.has("precision")) claim.at("precision").fail("\"precision\" belongs to softmax claims");
  // Sequences are independent: spread them over threads; report the first mismatch in order.
  std::vector<std::size_t> mine;
  for (std::size_t j = shard; j < ds.sequences.size(); j += shards) mine.push_back(j);
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::size_t first_bad = SIZE_MAX, bad_count = 0;
  std::string first_detail;
  std::unique_ptr<StructuredModel> fast;
  if (structured) fast = std::make_unique<StructuredModel>(m);
  auto work = [&] {
    for (std::size_t i; (i = next++) < mine.size();) {
      std::size_t j = mine[i];
      const Sequence& s = ds.sequences[j];
      std::vector<Vec> out = fast ? fast->forward(s.input) : forward_hardmax(m, s.input);
      for (std::size_t k = 0; k < s.output.size(); ++k) {
        if (out[s.positions[k]] == s.output[k]) continue;
        std::lock_guard<std::mutex> g(mu);
        ++bad_count;
        if (j < first_bad) {
          first_bad = j;
          first_detail = "sequence " + std::to_string(j) + ", position " + std::to_string(s.positions[k]) + ": " +
                         vec_text(out[s.positions[k]]) + " != target " + vec_text(s.output[k]);
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  std::size_t checked = 0;
  for (auto j : mine) checked += ds.sequences[j].output.size();
  if (bad_count)
    return refuted(name, std::to_string(bad_count) + " output token(s) differ from their targets; first: " + first_detail);
  std::string scope = shards == 1 ? "all " + std::to_string(outputs) + " output tokens"
                                  : std::to_string(checked) + " output tokens of shard " + std::to_string(shard) +
                                        "/" + std::to_string(shards);
  return verified(name, scope + " equal their targets (hardmax forward pass in exact rational arithmetic" +
                            (structured ? ", structured evaluation --fast" : "") + ")");
}

Finding check_counts(const JsonNode& claim, const Sizes& sz, const Dataset& ds) {
  const std::string name = "counts";
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
  if (root.at("format").string() != "interpcert-certificate")
    root.at("format").fail("expected \"interpcert-certificate\"");
  auto version = root.at("version").integer(0, INT32_MAX);
  if (version != kKnownMajorVersion)
    root.at("version").fail("unknown major version " + std::to_string(version) + " (this checker knows version " +
                            std::to_string(kKnownMajorVersion) + ")");
  root.only_keys({"format", "version", "producer", "dataset", "model", "claims"});
  std::vector<Finding> out;

  // 2. The dataset the certificate is about.
  std::string claimed_ds = root.at("dataset").at("digest").string(), actual_ds = dataset_digest(ds);
  out.push_back(claimed_ds == actual_ds
                    ? verified("dataset-digest", "sha256 " + actual_ds + " of the dataset's canonical text")
                    : refuted("dataset-digest", "the dataset's canonical digest is " + actual_ds +
                                                    ", the certificate names " + claimed_ds +
                                                    " (a certificate for another dataset, or the dataset changed)"));

  // 3. The embedded model and its digest.
  JsonNode mnode = root.at("model");
  mnode.only_keys({"digest", "content"});
  Model m = model_from_json(mnode.at("content"));
  std::string claimed_m = mnode.at("digest").string(), actual_m = model_digest(m);
  out.push_back(claimed_m == actual_m ? verified("model-digest", "sha256 " + actual_m + " of the embedded model")
                                      : refuted("model-digest", "the embedded model's canonical digest is " + actual_m +
                                                                    ", the certificate says " + claimed_m));

  // 4-7. The claims, in a fixed order; any other claim is refuted as unverifiable.
  JsonNode claims = root.at("claims");
  if (!claims.is_object()) claims.fail("expected an object of claims");
  for (auto it = claims.raw().begin(); it != claims.raw().end(); ++it) {
    static const char* known[] = {"hypotheses", "interpolation", "counts", "squared_norm"};
    if (std::find_if(std::begin(known), std::end(known), [&](const char* k) { return it.key() == k; }) == std::end(known))
      out.push_back(refuted(it.key(), "unknown claim: this checker cannot verify it"));
  }
  if (claims.has("hypotheses")) {
    JsonNode h = claims.at("hypotheses");
    std::string shown, failed;
    for (auto it = h.raw().begin(); it != h.raw().end(); ++it) {
      JsonNode v = h.at(it.key());
      if (!v.raw().is_boolean()) v.fail("expected true or false");
      std::string why;
      bool holds = hypothesis_holds(ds, it.key(), why);
      if (why == "unknown hypothesis") {
        failed = it.key() + ": unknown hypothesis";
        break;
      }
      if (v.raw().get<bool>() != holds) {
        failed = it.key() + " is claimed to " + (holds ? "fail" : "hold") + " but " + (holds ? "holds" : "fails: " + why);
        break;
      }
      shown += (shown.empty() ? "" : ", ") + it.key() + (holds ? " holds" : " fails");
    }
    out.push_back(failed.empty() ? verified("hypotheses", shown) : refuted("hypotheses", failed));
  }
  if (!claims.has("interpolation")) claims.fail("missing the \"interpolation\" claim");
  out.push_back(check_exact_interpolation(claims.at("interpolation"), m, ds, threads, shard, shards, structured));
  Sizes sz = sizes_of(m);
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
