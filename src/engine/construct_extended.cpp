// The construction of proofs/repeated-and-causal.md (Theorems 1 and 2): for datasets outside
// H1-H4 (repeated tokens, d = 1) and for causal models. Refinement rounds — one feed-forward layer
// z -> z + G(a.z) e and one uniform attention layer (Q = 0) adding lambda * mean(e.z) e over the
// sequence (or the prefix, causal) — until no two requirement points with different targets
// coincide; then one layer of hats. Every choice is a deterministic enumeration with exact checks.
#include "interpcert/construct.hpp"

#include "hat.hpp"
#include "interpcert/preconditions.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

namespace interpcert {
namespace {

Vec moment(std::size_t d, std::size_t t) {
  Vec v(d);
  Rational p(1);
  for (std::size_t i = 0; i < d; ++i, p *= Rational(static_cast<long>(t))) v[i] = p;
  return v;
}

// The first moment-curve direction (t = 1, 2, ...) with pairwise distinct projections of `points`.
Vec injective_direction(const std::vector<Vec>& points, std::size_t d, std::size_t& t_out) {
  for (std::size_t t = 1;; ++t) {
    Vec a = moment(d, t);
    std::vector<Rational> p;
    for (const auto& z : points) p.push_back(dot(a, z));
    std::sort(p.begin(), p.end());
    if (std::adjacent_find(p.begin(), p.end()) == p.end()) {
      t_out = t;
      return a;
    }
  }
}

struct State {
  const Dataset& ds;
  bool causal;
  std::vector<std::vector<Vec>> cur;  // current value of every position

  // Requirement points: (sequence, position) -> target index.
  bool has_conflict() const {
    std::unordered_map<Vec, const Vec*, VecHash> target_at;
    for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
      const Sequence& s = ds.sequences[j];
      for (std::size_t k = 0; k < s.output.size(); ++k) {
        auto [it, fresh] = target_at.try_emplace(cur[j][s.positions[k]], &s.output[k]);
        if (!fresh && *it->second != s.output[k]) return true;
      }
    }
    return false;
  }

  std::vector<Vec> distinct_points() const {
    std::set<Vec, bool (*)(const Vec&, const Vec&)> seen(lex_less);
    for (const auto& s : cur)
      for (const auto& z : s) seen.insert(z);
    return {seen.begin(), seen.end()};
  }
};

// Ids of the distinct current points, and per position the id of its context distribution (the
// whole sequence, or causal: the prefix 0 ... i), as sorted (point id, count / gcd) keys.
struct Colours {
  std::vector<std::vector<std::size_t>> point, context;
  std::size_t contexts = 0;
  Colours(const State& st) {
    std::unordered_map<Vec, std::size_t, VecHash> pid;
    std::map<std::vector<std::size_t>, std::size_t> cid;
    for (const auto& s : st.cur) {
      std::vector<std::size_t> ids, ctx;
      std::map<std::size_t, std::size_t> counts;
      for (const auto& z : s) {
        ids.push_back(pid.try_emplace(z, pid.size()).first->second);
        if (!st.causal) continue;
        ++counts[ids.back()];
        ctx.push_back(intern(cid, counts));
      }
      if (!st.causal) {
        for (auto x : ids) ++counts[x];
        ctx.assign(ids.size(), intern(cid, counts));
      }
      point.push_back(std::move(ids));
      context.push_back(std::move(ctx));
    }
    contexts = cid.size();
  }
  static std::size_t intern(std::map<std::vector<std::size_t>, std::size_t>& cid,
                            const std::map<std::size_t, std::size_t>& counts) {
    std::size_t g = 0;
    for (const auto& [id, c] : counts) g = std::gcd(g, c);
    std::vector<std::size_t> key;
    for (const auto& [id, c] : counts) key.push_back(id), key.push_back(c / g);
    return cid.try_emplace(std::move(key), cid.size()).first->second;
  }
};

// Non-causal (Theorem 1, step 1): thresholds only for pairs of contexts that give one token two
// targets: sigma of the second-highest point where their proportions differ (Lemma 2).
std::vector<Rational> pair_thresholds(const State& st, const Colours& col, const Vec& a) {
  const auto& seqs = st.ds.sequences;
  std::vector<std::map<std::size_t, Rational>> mu(col.contexts);  // proportions per context
  std::vector<bool> filled(col.contexts, false);
  std::vector<Rational> sigma;  // by point id
  for (std::size_t j = 0; j < seqs.size(); ++j)
    for (std::size_t i = 0; i < st.cur[j].size(); ++i) {
      std::size_t p = col.point[j][i];
      if (p >= sigma.size()) sigma.resize(p + 1);
      sigma[p] = dot(a, st.cur[j][i]);
    }
  for (std::size_t j = 0; j < seqs.size(); ++j) {
    std::size_t g = col.context[j][0];
    if (filled[g]) continue;
    filled[g] = true;
    Rational inv(1, static_cast<long>(st.cur[j].size()));
    for (auto p : col.point[j]) mu[g][p] += inv;
  }
  // token -> target -> contexts
  std::map<std::size_t, std::map<Vec, std::set<std::size_t>, bool (*)(const Vec&, const Vec&)>> by_token;
  for (std::size_t j = 0; j < seqs.size(); ++j)
    for (std::size_t k = 0; k < seqs[j].output.size(); ++k) {
      auto& m = by_token.try_emplace(col.point[j][seqs[j].positions[k]], lex_less).first->second;
      m[seqs[j].output[k]].insert(col.context[j][0]);
    }
  std::set<Rational> out;
  std::set<std::pair<std::size_t, std::size_t>> done;
  for (const auto& [tok, targets] : by_token)
    for (auto ti = targets.begin(); ti != targets.end(); ++ti)
      for (auto tj = std::next(ti); tj != targets.end(); ++tj)
        for (auto g : ti->second)
          for (auto h : tj->second) {
            if (!done.insert({std::min(g, h), std::max(g, h)}).second) continue;
            std::vector<Rational> diff;  // sigma of the points where mu_g != mu_h
            std::set<std::size_t> ids;
            for (const auto& [p, q] : mu[g]) ids.insert(p);
            for (const auto& [p, q] : mu[h]) ids.insert(p);
            for (auto p : ids) {
              auto x = mu[g].find(p), y = mu[h].find(p);
              Rational qg = x == mu[g].end() ? Rational(0) : x->second, qh = y == mu[h].end() ? Rational(0) : y->second;
              if (qg != qh) diff.push_back(sigma[p]);
            }
            // g != h are different distributions, so |supp nu| >= 2 (sum nu = 0).
            std::sort(diff.begin(), diff.end());
            out.insert(diff[diff.size() - 2]);
          }
  return {out.begin(), out.end()};
}

// Does the round's code m separate what it must? Causal: m injective on the prefix distributions.
// Non-causal: no two requirements with the same token, equal m and different targets.
bool separates(const State& st, const Colours& col, const std::vector<std::vector<Rational>>& m) {
  if (st.causal) {
    std::map<std::size_t, Rational> m_of;
    std::set<Rational> values;
    for (std::size_t j = 0; j < m.size(); ++j)
      for (std::size_t i = 0; i < m[j].size(); ++i)
        if (m_of.try_emplace(col.context[j][i], m[j][i]).second) values.insert(m[j][i]);
    return values.size() == m_of.size();
  }
  std::map<std::pair<std::size_t, Rational>, const Vec*> target;
  for (std::size_t j = 0; j < m.size(); ++j) {
    const Sequence& s = st.ds.sequences[j];
    for (std::size_t k = 0; k < s.output.size(); ++k) {
      auto [it, fresh] = target.try_emplace({col.point[j][s.positions[k]], m[j][0]}, &s.output[k]);
      if (!fresh && *it->second != s.output[k]) return false;
    }
  }
  return true;
}

struct RoundResult {
  FeedForward ff;
  SelfAttention sa;
  RefinementRound info;
};

// One refinement round. Causal: thresholds at every point but the highest, and the new points must
// be an injective function of (old point, prefix distribution). Non-causal: thresholds from the
// conflicting pairs, and the new requirement points must carry one target each.
RoundResult refine(State& st) {
  const std::size_t d = st.ds.d;
  std::vector<Vec> points = st.distinct_points();
  RoundResult rr;
  Vec a = injective_direction(points, d, rr.info.direction_t);
  Vec e(d);
  if (d == 1) e[0] = 1;
  else e[0] = a[1], e[1] = -a[0];  // a.e = 0: sigma is unchanged by the round's shifts
  Colours col(st);
  std::vector<Rational> thr;
  if (st.causal) {
    for (const auto& z : points) thr.push_back(dot(a, z));
    std::sort(thr.begin(), thr.end());
    thr.pop_back();
  } else {
    thr = pair_thresholds(st, col, a);
  }
  rr.info.thresholds = thr.size();
  // The colour classes the round must separate: (old point, context distribution).
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> classes;
  for (std::size_t j = 0; j < st.cur.size(); ++j)
    for (std::size_t i = 0; i < st.cur[j].size(); ++i) classes.try_emplace({col.point[j][i], col.context[j][i]}, 0);

  for (std::size_t t = 1; t < 1000; ++t) {
    for (Rational eps(1);; eps /= 2) {
      // G(s) = sum_k t^(k+1) relu(s - thr_k); F(z) = z + eps G(a.z) e.
      FeedForward ff;
      ff.eta = 1;
      const std::size_t w = std::max<std::size_t>(thr.size(), 1);
      ff.U = Matrix(w, d);
      ff.b.assign(w, Rational(0));
      ff.W = Matrix(d, w);
      Rational c(static_cast<long>(t));
      for (std::size_t k = 0; k < thr.size(); ++k, c *= Rational(static_cast<long>(t))) {
        for (std::size_t q = 0; q < d; ++q) ff.U(k, q) = a[q], ff.W(q, k) = eps * c * e[q];
        ff.b[k] = -thr[k];
      }
      auto F = [&](const Vec& z) {
        Vec out = z;
        Rational s = dot(a, z), g(0), ck(static_cast<long>(t));
        for (std::size_t k = 0; k < thr.size(); ++k, ck *= Rational(static_cast<long>(t)))
          if (s > thr[k]) g += ck * (s - thr[k]);
        axpy(out, eps * g, e);
        return out;
      };
      std::unordered_map<Vec, Vec, VecHash> Fz;
      std::set<Vec, bool (*)(const Vec&, const Vec&)> images(lex_less);
      for (const auto& z : points) images.insert(Fz.emplace(z, F(z)).first->second);
      if (images.size() != points.size()) continue;  // d = 1 only: a smaller eps makes F monotone
      // Means of e.F(z) over each context.
      std::vector<std::vector<Rational>> m(st.cur.size());
      for (std::size_t j = 0; j < st.cur.size(); ++j) {
        Rational sum(0);
        for (std::size_t i = 0; i < st.cur[j].size(); ++i) {
          sum += dot(e, Fz.at(st.cur[j][i]));
          if (st.causal) m[j].push_back(sum / Rational(static_cast<long>(i + 1)));
        }
        if (!st.causal) m[j].assign(st.cur[j].size(), sum / Rational(static_cast<long>(st.cur[j].size())));
      }
      // Generic t: m separates what the round must separate (causal: every two distinct prefix
      // distributions; non-causal: contexts giving one token two targets). Otherwise the next t.
      if (!separates(st, col, m)) break;
      // Then all but finitely many lambda work (proofs/repeated-and-causal.md, step 4).
      for (std::size_t li = 0;; ++li) {
        Rational lambda = lambda_candidate(li);
        State next{st.ds, st.causal, st.cur};
        for (std::size_t j = 0; j < st.cur.size(); ++j)
          for (std::size_t i = 0; i < st.cur[j].size(); ++i) {
            next.cur[j][i] = Fz.at(st.cur[j][i]);
            axpy(next.cur[j][i], lambda * m[j][i], e);
          }
        bool ok = st.causal ? next.distinct_points().size() == classes.size() : !next.has_conflict();
        if (!ok) continue;
        rr.ff = std::move(ff);
        rr.sa.rho = 1;
        rr.sa.Q = Matrix(1, d);
        rr.sa.K = Matrix(1, d);
        rr.sa.factored = true;
        rr.sa.Vleft = Matrix(d, 1);
        rr.sa.Vright = Matrix(1, d);
        for (std::size_t q = 0; q < d; ++q) rr.sa.Vleft(q, 0) = lambda * e[q], rr.sa.Vright(0, q) = e[q];
        rr.info.t = t;
        rr.info.epsilon = eps;
        rr.info.lambda = lambda;
        rr.info.points_after = next.distinct_points().size();
        st.cur = std::move(next.cur);
        return rr;
      }
      break;
    }
  }
  throw ConstructionError("internal: no generic parameters found for a refinement round");
}

}  // namespace

Construction construct_extended(const Dataset& ds, bool causal, const ConstructOptions& options,
                                const PreconditionReport& pre) {
  if (pre.verdict() == Applicability::Impossible)
    throw ConstructionError("an obstruction makes interpolation impossible (see `interpcert check`)");
  if (options.max_ff_width != 0)
    throw ConstructionError("--max-ff-width is not supported by the construction for repeated tokens, d = 1 or "
                            "causal masks (proofs/repeated-and-causal.md) yet");
  Construction out;
  ConstructionTrace& tr = out.trace;
  tr.extended = true;
  tr.causal = causal;
  out.model.d = ds.d;
  out.model.mask = causal ? MaskKind::Causal : MaskKind::None;
  State st{ds, causal, {}};
  for (const auto& s : ds.sequences) st.cur.push_back(s.input);

  // Rounds until every requirement point carries one target: non-causal at most 1 (Theorem 1),
  // causal at most 3 (Lemma 4); more means the obstruction check and the theory disagree.
  std::vector<RoundResult> rounds;
  while (st.has_conflict()) {
    if (rounds.size() == (causal ? 3u : 1u))
      throw ConstructionError("internal: conflicts remain after the proved number of refinement rounds");
    rounds.push_back(refine(st));
  }
  for (std::size_t r = 0; r < rounds.size(); ++r) {
    // (none, FF_1), (SA_1, FF_2), ..., (SA_R, hats).
    if (r == 0) out.model.blocks.push_back(Block{std::nullopt, std::move(rounds[0].ff)});
    else out.model.blocks.back().ff = std::move(rounds[r].ff);
    out.model.blocks.push_back(Block{std::move(rounds[r].sa), std::nullopt});
    tr.refinement.push_back(rounds[r].info);
  }

  // Hats: one layer, one hat per requirement point that must move; windows avoid every other
  // requirement point (construction.md, step 6).
  std::map<Vec, std::pair<Vec, std::vector<std::size_t>>, bool (*)(const Vec&, const Vec&)> target_of(lex_less);
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    const Sequence& s = ds.sequences[j];
    for (std::size_t k = 0; k < s.output.size(); ++k) {
      auto& slot = target_of.try_emplace(st.cur[j][s.positions[k]], s.output[k], std::vector<std::size_t>{}).first->second;
      if (slot.second.empty() || slot.second.back() != j) slot.second.push_back(j);
    }
  }
  tr.requirements = target_of.size();
  std::vector<Vec> pts;
  for (const auto& [p, t] : target_of) pts.push_back(p);
  tr.u = injective_direction(pts, ds.d, tr.interpolation_s);
  std::vector<Rational> proj;
  for (const auto& p : pts) proj.push_back(dot(tr.u, p));
  std::sort(proj.begin(), proj.end());
  std::vector<Hat> hats;
  for (const auto& [from, t] : target_of) {
    if (from == t.first) continue;
    Hat hat{tr.u, dot(tr.u, from), Rational(0), Vec(ds.d)};
    hat.delta = nearest_gap(proj, hat.t0);
    for (std::size_t c = 0; c < ds.d; ++c) hat.displacement[c] = t.first[c] - from[c];
    tr.hats.push_back({from, t.first, hat.t0, hat.delta, 0, t.second, {}});
    hats.push_back(std::move(hat));
  }
  if (!hats.empty()) {
    if (out.model.blocks.empty() || out.model.blocks.back().ff) out.model.blocks.push_back(Block{});
    out.model.blocks.back().ff = hats_layer(hats);
    for (auto& h : tr.hats) h.layer = out.model.blocks.size() - 1;
  }
  tr.uses_attention = !rounds.empty();
  return out;
}

}  // namespace interpcert
