#include "interpcert/softmax_apriori.hpp"

#include "interpcert/evaluate_fast.hpp"
#include "interpcert/softmax_eval.hpp"
#include "interpcert/softmax_search.hpp"

#include "arb_ball.hpp"

#include <arb.h>
#include <flint/fmpq.h>
#include <mpfr.h>

#include <algorithm>
#include <optional>

namespace interpcert {
namespace {

constexpr long kPrec = 128;

// |x| (Euclidean) of an exact vector, as a ball.
Ball norm(const std::vector<Rational>& x) {
  Rational s;
  for (const auto& c : x) s += c * c;
  Ball b(s, kPrec);
  arb_sqrt(b.v, b.v, kPrec);
  return b;
}

std::optional<Rational> upper(const Ball& b) {
  arf_t u;
  arf_init(u);
  arb_get_ubound_arf(u, b.v, kPrec);
  auto r = arf_upper_rational(u);
  arf_clear(u);
  return r;
}

// Per code layer, from the exact hardmax states before it: the smallest query k.z_i, the smallest
// gap between a context's leader and its other tokens, and the longest sequence.
struct CodeLayerData {
  Rational min_query, min_gap;
  std::size_t n_max = 0;
};

bool is_code_layer(const SelfAttention& sa) {
  if (sa.rho != 1 || sa.Q.rows != 1 || !(sa.Q == sa.K) || !sa.factored || sa.Vleft.cols != 1 || !(sa.Vright == sa.Q))
    return false;
  Rational kw;
  for (std::size_t i = 0; i < sa.Q.cols; ++i) kw += sa.Q(0, i) * sa.Vleft(i, 0);
  return kw == 0;
}

}  // namespace

AprioriBound softmax_a_priori_bound(const Model& model, const Dataset& ds, const Rational& beta) {
  struct Cleanup {  // Arb's per-thread caches (exp)
    ~Cleanup() {
      flint_cleanup();
      mpfr_free_cache();
    }
  } cleanup;
  AprioriBound out;
  for (const Block& b : model.blocks)
    if (b.sa && !is_code_layer(*b.sa)) {
      out.reason = "the model's attention layers are not code layers (rho = 1, Q = K = k^T, V = (lambda w) k^T)";
      return out;
    }
  // Exact hardmax states before each code layer.
  std::vector<std::vector<Vec>> states;
  for (const auto& s : ds.sequences) states.push_back(s.input);
  Ball e;  // the current error bound (Euclidean, per token), starts at 0
  arb_zero(e.v);
  Ball bbeta(beta, kPrec);
  auto up3 = [](const Ball& b) {  // an upper bound, 3 digits (0 if unbounded: never printed then)
    auto u = upper(b);
    return u ? round_up_3_digits(*u < 0 ? Rational(0) : *u) : Rational(0);
  };
  for (std::size_t bi = 0; bi < model.blocks.size(); ++bi) {
    const Block& blk = model.blocks[bi];
    if (blk.sa) {
      const SelfAttention& sa = *blk.sa;
      Vec k(sa.Q.a.begin(), sa.Q.a.end());
      CodeLayerData cd;
      std::optional<Rational> min_query, min_gap;
      for (const auto& seq : states) {
        cd.n_max = std::max(cd.n_max, seq.size());
        std::vector<Rational> p;
        for (const auto& z : seq) p.push_back(dot(k, z));
        Rational top = *std::max_element(p.begin(), p.end());
        for (const auto& x : p) {
          if (!min_query || x < *min_query) min_query = x;
          if (x != top && (!min_gap || top - x < *min_gap)) min_gap = top - x;
        }
      }
      cd.min_query = *min_query;
      cd.min_gap = min_gap ? *min_gap : Rational(1);  // no other token anywhere: n_max = 1, no weight term
      // e' = e (1 + lambda|w| |k|) + lambda|w| (n - 1) G e^{-beta q G}, G = gap - 2|k|e, q = query - |k|e.
      Ball lw = norm(std::vector<Rational>(sa.Vleft.a.begin(), sa.Vleft.a.end())), kn = norm(k), t, G, q, term;
      arb_mul(t.v, kn.v, e.v, kPrec);
      Ball gap(cd.min_gap, kPrec), query(cd.min_query, kPrec);
      arb_submul_si(G.v, t.v, 2, kPrec);
      arb_add(G.v, G.v, gap.v, kPrec);
      arb_sub(q.v, query.v, t.v, kPrec);
      Ball bq;
      arb_mul(bq.v, bbeta.v, q.v, kPrec);
      arb_mul(bq.v, bq.v, G.v, kPrec);
      if (!arb_is_positive(G.v) || !arb_is_positive(q.v) || !arb_ge(bq.v, Ball(Rational(1), kPrec).v)) {
        out.reason = "beta too small for the bound's argument (needs beta q' gap' >= 1 at every code layer; fails at "
                     "block " + std::to_string(bi) + ")";
        return out;
      }
      arb_neg(term.v, bq.v);
      arb_exp(term.v, term.v, kPrec);
      arb_mul(term.v, term.v, G.v, kPrec);
      arb_mul_ui(term.v, term.v, cd.n_max - 1, kPrec);
      arb_mul(term.v, term.v, lw.v, kPrec);
      Ball amp;
      arb_mul(amp.v, lw.v, kn.v, kPrec);
      arb_add_ui(amp.v, amp.v, 1, kPrec);
      arb_mul(e.v, e.v, amp.v, kPrec);
      arb_add(e.v, e.v, term.v, kPrec);
      out.layers.push_back({bi, true, cd.min_query, cd.min_gap, cd.n_max, up3(lw), up3(kn), up3(term), up3(amp), up3(e)});
      Model one;
      one.d = model.d;
      one.blocks.push_back(Block{blk.sa, std::nullopt});
      states = evaluate_fast(one, std::move(states));
    }
    if (blk.ff) {
      // Lipschitz constant |eta| + sum_j |W_j| |U_j| (each relu is 1-Lipschitz).
      const FeedForward& ff = *blk.ff;
      Ball lip(ff.eta < 0 ? Rational(-ff.eta) : ff.eta, kPrec);
      for (std::size_t j = 0; j < ff.U.rows; ++j) {
        std::vector<Rational> wj, uj;
        for (std::size_t c = 0; c < ff.W.rows; ++c) wj.push_back(ff.W(c, j));
        for (std::size_t c = 0; c < ff.U.cols; ++c) uj.push_back(ff.U(j, c));
        Ball a = norm(wj), b = norm(uj);
        arb_addmul(lip.v, a.v, b.v, kPrec);
      }
      arb_mul(e.v, e.v, lip.v, kPrec);
      AprioriLayer al;
      al.block = bi;
      al.amplification = up3(lip);
      al.error_after = up3(e);
      out.layers.push_back(std::move(al));
      Model one;
      one.d = model.d;
      one.blocks.push_back(Block{std::nullopt, blk.ff});
      states = evaluate_fast(one, std::move(states));
    }
  }
  auto ub = upper(e);
  if (!ub) {
    out.reason = "the bound is astronomically large at this beta";
    return out;
  }
  out.available = true;
  out.bound = round_up_3_digits(*ub);
  return out;
}

std::optional<Rational> a_priori_beta(const Model& model, const Dataset& ds, const Rational& epsilon) {
  // The bound decreases in beta: each fresh term does, and the amplifications do not depend on it.
  auto found = least_passing_beta([&](const Rational& b) {
    AprioriBound a = softmax_a_priori_bound(model, ds, b);
    return a.available && a.bound <= epsilon;
  });
  if (!found) return std::nullopt;
  return found->beta;
}

}  // namespace interpcert
