// The construction (proofs/construction.md, steps 1-7). Notation: k the key direction, w = (k_2, -k_1,
// 0, ...) with k.w = 0. Every token x of context g sits at x + s k + code_g w with s >= 0
// (translation, promotions), so a position is determined by the pair (k.pos, w.pos): equal k.pos
// means the same token (projections k.x are distinct, and promotion heights are fresh), and
// then w.pos fixes the code. Genericity checks for promotions therefore run on these scalar
// pairs, not on d-vectors.
#include "interpcert/construct.hpp"

#include "hat.hpp"
#include "ids_hash.hpp"
#include "interpcert/model_stats.hpp"
#include "interpcert/preconditions.hpp"
#include "interpcert/staircase.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace interpcert {
namespace {

// ---- The dataset seen as contexts and requirements -------------------------------------------

struct Requirement {
  std::size_t context, token, target;
  std::vector<std::size_t> sequences;
};

struct PtrHash {
  std::size_t operator()(const Vec* v) const { return VecHash{}(*v); }
};
struct PtrEq {
  bool operator()(const Vec* a, const Vec* b) const { return *a == *b; }
};
struct IdPairHash {
  std::size_t operator()(const std::pair<std::size_t, std::size_t>& p) const {
    std::uint64_t h = p.first * 0x9e3779b97f4a7c15ULL ^ p.second;
    h ^= h >> 33;  // murmur3's finalizer: the pairs (g, x) differ in few bits
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
  }
};
struct RationalPairHash {
  std::size_t operator()(const std::pair<Rational, Rational>& p) const {
    const std::size_t h = rational_hash(p.first);
    return h ^ (rational_hash(p.second) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};

struct Problem {
  std::size_t d = 0;
  std::vector<TokenRef> tokens;   // refer into the dataset: nothing is copied
  std::vector<const Vec*> targets;  // point into the dataset
  std::vector<std::vector<std::size_t>> contexts;  // sorted token ids
  std::vector<std::size_t> context_of_sequence;
  std::vector<Requirement> requirements;           // distinct (context, token)
};

// `known`: the token ids check_preconditions gave the same dataset (first appearance, as here),
// used instead of hashing every token again when their shape matches; null: hashed here.
Problem prepare(const Dataset& ds, const std::vector<std::vector<std::size_t>>* known) {
  Problem pb;
  pb.d = ds.d;
  if (known && known->size() != ds.sequences.size()) known = nullptr;
  // With known ids, the number of distinct tokens is one more than the largest id: pb.tokens is
  // sized once (10^7 tokens: 160 MB) instead of growing by doubling and copying.
  std::size_t distinct = 0, outputs = 0;
  for (std::size_t j = 0; known && j < ds.sequences.size(); ++j) {
    if ((*known)[j].size() != ds.sequences[j].input.size()) known = nullptr;
    else
      for (std::size_t id : (*known)[j]) distinct = std::max(distinct, id + 1);
  }
  if (known) pb.tokens.reserve(distinct);
  for (const Sequence& s : ds.sequences) outputs += s.output.size();
  std::unordered_map<TokenRef, std::size_t, TokenRefHash> token_id;
  std::unordered_map<const Vec*, std::size_t, PtrHash, PtrEq> target_id;
  target_id.reserve(outputs);
  // Looked up only (ids by first appearance): hashed. Ordered maps of 10^5 contexts and 2 10^5
  // requirements at 10^7 tokens cost ~17 comparisons a lookup, each a likely cache miss there.
  std::unordered_map<std::vector<std::size_t>, std::size_t, IdsHash> context_id;
  std::unordered_map<std::pair<std::size_t, std::size_t>, std::size_t, IdPairHash> req_id;
  context_id.reserve(ds.sequences.size());
  req_id.reserve(outputs);
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    const Sequence& s = ds.sequences[j];
    std::vector<std::size_t> ids;
    if (known) {
      ids = (*known)[j];
      for (std::size_t i = 0; i < ids.size(); ++i)
        if (ids[i] == pb.tokens.size()) pb.tokens.push_back(TokenRef{&s.input, i});  // its first appearance
    } else {
      for (std::size_t i = 0; i < s.input.size(); ++i) {
        const TokenRef z{&s.input, i};
        auto [it, fresh] = token_id.try_emplace(z, pb.tokens.size());
        if (fresh) pb.tokens.push_back(z);
        ids.push_back(it->second);
      }
    }
    std::vector<std::size_t> set = ids;
    std::sort(set.begin(), set.end());
    auto [cit, cfresh] = context_id.try_emplace(set, pb.contexts.size());
    if (cfresh) pb.contexts.push_back(set);
    std::size_t g = cit->second;
    pb.context_of_sequence.push_back(g);
    for (std::size_t k = 0; k < s.output.size(); ++k) {
      auto [tit, tfresh] = target_id.try_emplace(&s.output[k], pb.targets.size());
      if (tfresh) pb.targets.push_back(&s.output[k]);
      std::size_t x = ids[s.positions[k]];
      auto [rit, rfresh] = req_id.try_emplace({g, x}, pb.requirements.size());
      if (rfresh) pb.requirements.push_back({g, x, tit->second, {}});
      // H4 guarantees the same target for the same (context, token).
      pb.requirements[rit->second].sequences.push_back(j);
    }
  }
  return pb;
}

// ---- Step 1: key direction --------------------------------------------------------------------

// choose_key tests a key on the first eighth of the tokens first from this many distinct tokens on.
constexpr std::size_t kKeyPrefixFrom = std::size_t{1} << 16;

Vec moment_curve(std::size_t d, std::size_t t) {
  Vec v(d);
  Rational p(1);
  for (std::size_t i = 0; i < d; ++i, p *= Rational(static_cast<long>(t))) v[i] = p;
  return v;
}

/// Which levels the float construction's directions are enumerated by: T = max |a_i| (item 1 of
/// proofs/float-construction.md), or, in d > 2 where the max-norm order makes some hat too large
/// (item 14, "Directions by l1 norm"), L = |a_2| + ... + |a_d|. In d = 2 the two orders coincide.
enum class DirectionOrder { MaxNorm, L1 };

/// The float construction's directions (proofs/float-construction.md): small-integer vectors
/// (1, a_2, ..., a_d), by increasing level T = max |a_i|. A level of at most kWholeLevel vectors is
/// visited whole, each a_i in the order 0, 1, -1, 2, -2, ... (deterministic; every vector once):
/// in d = 2 every level (2 vectors), in d = 3 up to T = 32. A larger level (d >= 4 from T = 3 or
/// so; at d = 16 level 1 alone has 3^15 vectors) contributes kSampled pseudo-random vectors of the
/// level (a fixed generator: deterministic): visiting it whole would stall the search at small T,
/// where points that differ in few coordinates project together, and the search needs T to grow
/// (distinct projections of P points need a range of about P^2 / 2 values, as in d = 2).
class SmallDirections {
 public:
  static constexpr std::uint64_t kWholeLevel = 256, kSampled = 16;
  explicit SmallDirections(std::size_t d, DirectionOrder order = DirectionOrder::MaxNorm)
      : d_(d), digit_(d - 1, 0), l1_(order == DirectionOrder::L1 && d > 2) {}
  Vec next() {
    if (l1_) return next_l1();
    for (;;) {
      advance();
      if (sampled_ > 0) return sample();
      long m = 0;
      for (auto i : digit_) m = std::max(m, std::labs(order_[i]));
      if (m != T_) continue;
      Vec v(d_);
      v[0] = 1;
      for (std::size_t i = 0; i + 1 < d_; ++i) v[i + 1] = Rational(order_[digit_[i]]);
      return v;
    }
  }

 private:
  // One step: the odometer over the digits (indices into order_) of a whole level, or the next
  // sample of a sampled level; at the end of a level the next one starts.
  void advance() {
    if (!started_) return start_level(0);
    if (sampled_ > 0) {
      if (sampled_ < kSampled) ++sampled_;
      else start_level(T_ + 1);
      return;
    }
    std::size_t i = 0;
    while (i < digit_.size() && ++digit_[i] == order_.size()) digit_[i++] = 0;
    if (i < digit_.size()) return;
    if (d_ < 2) throw std::logic_error("SmallDirections: d = 1 has one direction");
    start_level(T_ + 1);
  }
  void start_level(long T) {
    started_ = true;
    T_ = T;
    order_.assign(1, 0);  // 0, 1, -1, ..., T, -T
    for (long a = 1; a <= T; ++a) order_.push_back(a), order_.push_back(-a);
    std::fill(digit_.begin(), digit_.end(), 0);
    sampled_ = level_size_at_most(kWholeLevel) ? 0 : 1;
  }
  // (2T + 1)^(d - 1) - (2T - 1)^(d - 1) <= cap, without overflow.
  bool level_size_at_most(std::uint64_t cap) const {
    std::uint64_t outer = 1, inner = 1;
    for (std::size_t i = 0; i + 1 < d_; ++i) {
      outer *= static_cast<std::uint64_t>(2 * T_ + 1);
      inner *= static_cast<std::uint64_t>(T_ > 0 ? 2 * T_ - 1 : 0);
      if (outer > cap + inner) return false;
    }
    return true;
  }
  // Sample sampled_ of level T_: a_i uniform in [-T, T], one a_i (uniform) set to +-T.
  Vec sample() const {
    std::uint64_t state = static_cast<std::uint64_t>(T_) * 0x9E3779B97F4A7C15ULL + sampled_;
    auto next = [&state] {  // splitmix64
      std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      return z ^ (z >> 31);
    };
    const std::uint64_t width = static_cast<std::uint64_t>(2 * T_ + 1);
    Vec v(d_);
    v[0] = 1;
    for (std::size_t i = 1; i < d_; ++i) v[i] = Rational(static_cast<long>(next() % width) - T_);
    v[1 + next() % (d_ - 1)] = Rational(next() & 1 ? T_ : -T_);
    return v;
  }
  // The l1 order (item 14): level L = sum |a_i|. A level of at most kWholeLevel vectors is visited
  // whole, in the odometer's order (a_d most significant, each a_i in the order 0, 1, -1, 2, -2, ...);
  // a larger one contributes kSampled draws of a fixed generator: L units dropped uniformly into the
  // d - 1 coordinates, each coordinate's sign by a coin (deterministic). At d = 16 level 1 has 30
  // vectors, level 2 has 450 (sampled).
  Vec next_l1() {
    const bool done = !started_ || (sampled_ == 0 ? pos_ == level_.size() : sampled_ == kSampled);
    if (done) start_l1_level(started_ ? T_ + 1 : 0);
    Vec v(d_);
    v[0] = 1;
    if (sampled_ == 0) {
      const auto& a = level_[pos_++];
      for (std::size_t i = 0; i < a.size(); ++i) v[i + 1] = Rational(a[i]);
      return v;
    }
    ++sampled_;
    std::uint64_t state = static_cast<std::uint64_t>(T_) * 0x9E3779B97F4A7C15ULL + sampled_;
    std::vector<long> a(d_ - 1, 0);
    for (long k = 0; k < T_; ++k) ++a[splitmix64(state) % (d_ - 1)];
    for (std::size_t i = 0; i < a.size(); ++i) v[i + 1] = Rational(splitmix64(state) & 1 ? -a[i] : a[i]);
    return v;
  }
  void start_l1_level(long L) {
    started_ = true;
    T_ = L;
    pos_ = 0;
    level_.clear();
    std::vector<long> a(d_ - 1, 0);
    bool whole = true;
    // Every a with sum |a_i| = L, stopping once the level is known to exceed kWholeLevel.
    auto rec = [&](auto&& self, std::size_t i, long left) -> void {
      if (!whole) return;
      if (i + 1 == a.size()) {
        for (long v : {left, -left}) {
          a[i] = v;
          level_.push_back(a);
          if (left == 0) break;
        }
        whole = level_.size() <= kWholeLevel;
        a[i] = 0;
        return;
      }
      for (long v = -left; v <= left && whole; ++v) {
        a[i] = v;
        self(self, i + 1, left - std::labs(v));
      }
      a[i] = 0;
    };
    rec(rec, 0, L);
    if (!whole) {
      level_.clear();
      sampled_ = 1;
      return;
    }
    sampled_ = 0;
    auto rank = [](long v) { return v > 0 ? 2 * v - 1 : -2 * v; };  // 0, 1, -1, 2, -2, ...
    std::sort(level_.begin(), level_.end(), [&](const std::vector<long>& x, const std::vector<long>& y) {
      for (std::size_t i = x.size(); i-- > 0;)
        if (x[i] != y[i]) return rank(x[i]) < rank(y[i]);
      return false;
    });
  }
  static std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  std::size_t d_;
  std::vector<std::size_t> digit_;
  bool l1_ = false;
  std::vector<std::vector<long>> level_;  // the l1 order's current whole level
  std::size_t pos_ = 0;
  std::vector<long> order_;
  long T_ = 0;
  bool started_ = false;
  std::uint64_t sampled_ = 0;  // 0: the level is visited whole; k >= 1: its k-th sample
};

/// The float construction's alpha schedule: 1, 2, 3, ... (integers keep every number of the model
/// and every state an integer combination of the data).
Rational integer_candidate(std::size_t i) { return Rational(static_cast<long>(i + 1)); }

/// max |code_g + lambda height_g|: the float construction prefers the sign of lambda that keeps
/// the codes (hence the positions' size) small.
Rational largest_code(const std::vector<Rational>& code, const std::vector<Rational>& height, const Rational& lambda) {
  Rational m(0);
  for (std::size_t g = 0; g < code.size(); ++g) m = std::max(m, abs(code[g] + lambda * height[g]));
  return m;
}

bool all_distinct(std::vector<Rational> v) {
  std::sort(v.begin(), v.end());
  return std::adjacent_find(v.begin(), v.end()) == v.end();
}

// ---- Interpolation hats (step 6) ---------------------------------------------------------------

// The float construction's orientation of a flat-top hat: every neuron is active on the side
// t > t0 + delta, where the products W h grow with the distance. Use -u when the points reach
// farther above the centre than below it (projections in [lo, hi]): the hat is the same function.
void orient(Hat& hat, const Rational& lo, const Rational& hi) {
  if (hi - hat.t0 <= hat.t0 - lo) return;
  for (auto& x : hat.u) x = -x;
  hat.t0 = -hat.t0;
}

struct Move {
  Vec from, to;
  std::vector<std::size_t> sequences;
};

struct HatPlan {
  std::vector<FeedForward> layers;
  std::size_t s = 0;
  Vec u;
  std::vector<InterpolationHat> hats;
  long worst_bits = 0;  // the float construction: the largest estimated hat size (HatSizer), in bits
};

// Hats moving every `from` to its `to`. The windows avoid every requirement position, and with a
// width cap also every target: then the layers can run in any order that moves a position before
// the hat whose target it is. Returns nullopt when those dependencies form a cycle (capped only).
/// The float construction's split hats (proofs/float-construction.md, "Split hats"): a hat whose
/// feed-forward output would need >= p bits for Lemma E may become a coarse hat (displacement a
/// multiple of 2^j) and a fine hat (the rest) in two consecutive layers, at most `budget` of them
/// (the depth then stays within sum m_j + N).
struct FloatSplit {
  long p = 53;
  std::size_t budget = 0;
  const std::vector<Vec>* others = nullptr;  // the other token positions (for the sizes only)
  // Feed-forward-only models: the windows also avoid `others` (proofs/float-construction.md,
  // "Windows that avoid every token"). Not in the attention route, whose models stay as they were.
  bool avoid_others = false;
  // The directions' order (item 14: by l1 norm in d > 2 where the max-norm order's hats are too large).
  DirectionOrder order = DirectionOrder::MaxNorm;
};

// The split hats of the float construction (proofs/float-construction.md, "Split hats"). For each
// hat (in `order`) whose estimated size hat_bits is >= p: the best j >= 1 such that the coarse hat
// (displacement D rounded to a multiple of 2^j per coordinate, same window) and the fine hat (the
// rest, from the point mid = from + D_c with its own window) both estimate smaller; mid must
// project apart from every point (its window avoids every current position; `from` itself is
// vacated by then but still counts, which only narrows the window). The `budget` largest are taken.
// Sizes (in bits, Lemma E) of the float construction's hats along u: see hat_bits.
struct HatSizer {
  const std::vector<Rational>& proj;  // sorted projections of the points
  std::vector<Rational> zmax;
  Rational zsum;    // max |z|_1 of the points
  Rational lo, hi;  // the range of u.z over the points and `others`
  long vmin = 0;
  // others: every other token position the hats see (not moved, not in the way): sizes only.
  HatSizer(const std::vector<const Vec*>& points, const Vec& u, const std::vector<Rational>& p,
           const std::vector<Vec>* others)
      : proj(p), lo(p.front()), hi(p.back()) {
    const std::size_t d = u.size();
    zmax.assign(d, Rational(0));
    bool first = true;
    auto seen_value = [&](const Rational& x) {
      if (x == 0) return;
      long v = valuation2(x);
      vmin = first ? v : std::min(vmin, v);
      first = false;
    };
    auto take = [&](const Vec& q) {
      Rational l1(0);
      for (std::size_t c = 0; c < d; ++c) zmax[c] = std::max(zmax[c], abs(q[c])), seen_value(q[c]), l1 += abs(q[c]);
      zsum = std::max(zsum, l1);
    };
    for (const Vec* q : points) take(*q);
    if (others)
      for (const Vec& q : *others) {
        take(q);
        Rational t = dot(u, q);
        lo = std::min(lo, t), hi = std::max(hi, t);
      }
    for (const auto& t : proj) seen_value(t);
  }
  // The feed-forward output of a hat at projection t0 moving by D.
  long output(const Rational& t0, const Vec& D) const {
    DyadicWindow win = dyadic_window(t0, nearest_gap(proj, t0));
    Rational far = std::min(hi - win.center, win.center - lo);  // orient: the shorter side
    if (far < 0) far = 0;
    return hat_bits(win.center, win.delta, D, far, zmax, vmin);
  }
  // Its pre-activations u.z + b: |u|_inf |z|_1 + |c| + delta over their granularity.
  long preactivation(const Rational& t0, const Vec& u) const {
    DyadicWindow win = dyadic_window(t0, nearest_gap(proj, t0));
    Rational umax(0);
    for (const auto& x : u) umax = std::max(umax, abs(x));
    long q = std::min(vmin, valuation2(win.delta / 2));
    if (win.center != 0) q = std::min(q, valuation2(win.center));
    return floor_log2(umax * zsum + abs(win.center) + win.delta) + 1 - q;
  }
};

std::vector<std::optional<Vec>> plan_splits(const std::vector<Move>& moves, const std::vector<std::size_t>& order,
                                            const std::vector<const Vec*>& points, const Vec& u,
                                            const std::vector<Rational>& proj, const FloatSplit& split) {
  const std::size_t d = u.size();
  HatSizer sizer(points, u, proj, split.others);
  auto estimate = [&](const Rational& t0, const Vec& D) { return sizer.output(t0, D); };
  struct Option {
    long single, score;
    std::size_t i;
    Vec mid;
  };
  std::vector<Option> options;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Move& m = moves[order[i]];
    Vec D(d);
    Rational dmax(0);
    for (std::size_t c = 0; c < d; ++c) D[c] = m.to[c] - m.from[c], dmax = std::max(dmax, abs(D[c]));
    const Rational t0 = dot(u, m.from);
    const long single = estimate(t0, D);
    if (single < split.p || dmax < 2) continue;
    Option best{single, single, i, {}};
    for (long j = 1; j <= floor_log2(dmax); ++j) {
      const Rational step(Integer(1) << j);
      Vec Dc(d), Df(d);
      bool coarse = false, fine = false;
      for (std::size_t c = 0; c < d; ++c) {
        Rational r = D[c] / step + Rational(1, 2);
        Integer n = numerator(r) / denominator(r);  // toward zero
        if (Rational(n) > r) n -= 1;                // floor(D/2^j + 1/2): the nearest multiple
        Dc[c] = Rational(n) * step;
        Df[c] = D[c] - Dc[c];
        coarse = coarse || Dc[c] != 0;
        fine = fine || Df[c] != 0;
      }
      if (!coarse || !fine) continue;
      for (int fine_first = 0; fine_first < 2; ++fine_first) {
        const Vec& first_move = fine_first ? Df : Dc;
        const Vec& second_move = fine_first ? Dc : Df;
        Vec mid = m.from;
        for (std::size_t c = 0; c < d; ++c) mid[c] += first_move[c];
        const Rational t1 = dot(u, mid);
        if (t1 != t0 && std::binary_search(proj.begin(), proj.end(), t1)) continue;  // mid on another point's line
        long score = std::max(estimate(t0, first_move), estimate(t1, second_move));
        if (score < best.score) best.score = score, best.mid = std::move(mid);
      }
    }
    if (best.score < single) options.push_back(std::move(best));
  }
  std::stable_sort(options.begin(), options.end(), [](const Option& a, const Option& b) { return a.single > b.single; });
  if (options.size() > split.budget) options.resize(split.budget);
  std::vector<std::optional<Vec>> mid(order.size());
  for (auto& o : options) mid[o.i] = std::move(o.mid);
  return mid;
}

std::optional<HatPlan> plan_interpolation(const std::vector<Move>& moves, std::size_t d, std::size_t per_layer,
                                          bool capped, bool for_float, const FloatSplit* split = nullptr) {
  // Keyed by the moves' own vectors (no copies: 200,000 vectors of 16 rationals at 10^7 tokens).
  std::unordered_set<const Vec*, PtrHash, PtrEq> seen;
  seen.reserve(capped ? 2 * moves.size() : moves.size());
  std::vector<const Vec*> points;
  for (const auto& m : moves)
    if (seen.insert(&m.from).second) points.push_back(&m.from);
  if (capped)
    for (const auto& m : moves)
      if (seen.insert(&m.to).second) points.push_back(&m.to);

  std::vector<std::size_t> order;
  if (capped) {
    // Order: a hat whose target is another moving position runs after that position's hat.
    std::unordered_map<const Vec*, std::size_t, PtrHash, PtrEq> moving_at;
    for (std::size_t i = 0; i < moves.size(); ++i)
      if (moves[i].from != moves[i].to) moving_at.emplace(&moves[i].from, i);
    std::vector<int> state(moves.size(), 0);  // 0 new, 1 on the stack, 2 done
    for (std::size_t start = 0; start < moves.size(); ++start) {
      if (moves[start].from == moves[start].to || state[start]) continue;
      std::vector<std::size_t> chain;  // follow the unique dependency edge
      std::size_t at = start;
      while (true) {
        if (state[at] == 2) break;
        if (state[at] == 1) return std::nullopt;  // a cycle of targets
        state[at] = 1;
        chain.push_back(at);
        auto it = moving_at.find(&moves[at].to);
        if (it == moving_at.end() || it->second == at) break;
        at = it->second;
      }
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        state[*it] = 2;
        order.push_back(*it);
      }
    }
  } else {
    for (std::size_t i = 0; i < moves.size(); ++i)
      if (moves[i].from != moves[i].to) order.push_back(i);
  }

  HatPlan plan;
  std::vector<Rational> proj;
  const DirectionOrder dir_order = split ? split->order : DirectionOrder::MaxNorm;
  SmallDirections small(d, dir_order);
  for (std::size_t s = 1;; ++s) {
    plan.u = for_float ? small.next() : moment_curve(d, s);
    proj.clear();
    for (const Vec* p : points) proj.push_back(dot(plan.u, *p));
    std::sort(proj.begin(), proj.end());
    if (std::adjacent_find(proj.begin(), proj.end()) == proj.end()) {
      plan.s = s;
      break;
    }
  }
  if (for_float && split) {
    // If some hat along the first valid u would need >= p bits: among the next few valid directions,
    // the one whose largest hat (output or pre-activation, HatSizer) is smallest; the first on ties.
    // Only a choice: any valid u interpolates exactly.
    auto score = [&](const Vec& u, const std::vector<Rational>& pr) {
      HatSizer sizer(points, u, pr, split->others);
      long worst = 0;
      for (std::size_t i : order) {
        const Move& m = moves[i];
        Vec D(d);
        for (std::size_t c = 0; c < d; ++c) D[c] = m.to[c] - m.from[c];
        Rational t0 = dot(u, m.from);
        worst = std::max({worst, sizer.output(t0, D), sizer.preactivation(t0, u)});
      }
      return worst;
    };
    long best = score(plan.u, proj);
    std::vector<Rational> pr;
    for (std::size_t s = plan.s + 1, valid = 0; best >= split->p - 3 && valid < 8 && s < plan.s + 64; ++s) {
      Vec u = small.next();
      pr.clear();
      for (const Vec* p : points) pr.push_back(dot(u, *p));
      std::sort(pr.begin(), pr.end());
      if (std::adjacent_find(pr.begin(), pr.end()) != pr.end()) continue;
      ++valid;
      long sc = score(u, pr);
      if (sc < best) best = sc, plan.u = std::move(u), plan.s = s, proj = pr;
    }
  }
  std::vector<std::optional<Vec>> mid(order.size());  // split hats: the point between coarse and fine
  if (for_float && split && split->budget > 0) mid = plan_splits(moves, order, points, plan.u, proj, *split);
  // The float construction orients each hat by the range of every token position it sees.
  Rational olo = proj.front(), ohi = proj.back();
  if (for_float && split && split->others)
    for (const Vec& q : *split->others) {
      Rational t = dot(plan.u, q);
      olo = std::min(olo, t), ohi = std::max(ohi, t);
    }
  std::vector<Hat> batch;
  // The float construction may give each hat (one per layer) its own direction: if the hat would
  // need >= p bits along plan.u, among the first small directions under which the hat's point
  // projects apart from every other point, the one with the smallest HatSizer size. Only a choice:
  // the window still holds no other point.
  struct Dir {
    Vec u;
    std::vector<Rational> proj;
    Rational lo, hi;
    std::unique_ptr<HatSizer> sizer;
    std::vector<Rational> all;  // sorted projections of the points and `others` (window widths)
  };
  // The float construction's windows also avoid every other token position (`others`): a token
  // left inside a window is moved part-way (exact, harmless) but off the grid, and the float
  // analysis then carries its rounding error through every later window it lands in, amplified by
  // each hat's slope (collinear one decimal, N = 1,000: overflow; proofs/float-construction.md,
  // "Windows that avoid every token"). An other token on the hat's own line cannot be avoided.
  auto with_others = [&](const Vec& u, const std::vector<Rational>& pr) {
    std::vector<Rational> all = pr;
    if (for_float && split && split->others && split->avoid_others) {
      for (const Vec& q : *split->others) all.push_back(dot(u, q));
      std::sort(all.begin(), all.end());
      all.erase(std::unique(all.begin(), all.end()), all.end());
    }
    return all;
  };
  const std::vector<Rational> plan_all = for_float ? with_others(plan.u, proj) : std::vector<Rational>{};
  std::vector<Dir> dirs;
  if (for_float && split) {
    SmallDirections more(d, dir_order);
    dirs.reserve(16);  // the sizers refer to their Dir's projections: no reallocation
    for (std::size_t n = 0; dirs.size() < 16 && n < 64; ++n) {
      Vec u = n == 0 ? plan.u : more.next();
      if (n > 0 && u == plan.u) continue;
      Dir dir{u, {}, {}, {}, nullptr, {}};
      for (const Vec* q : points) dir.proj.push_back(dot(u, *q));
      std::sort(dir.proj.begin(), dir.proj.end());
      dir.all = with_others(u, dir.proj);
      dirs.push_back(std::move(dir));
      Dir& dd = dirs.back();
      dd.sizer = std::make_unique<HatSizer>(points, dd.u, dd.proj, split->others);
      dd.lo = dd.sizer->lo, dd.hi = dd.sizer->hi;
    }
  }
  auto add_hat = [&](const Vec& from, const Vec& to, const std::vector<std::size_t>& sequences, bool last,
                     bool is_point) {
    const Dir* use = nullptr;
    if (!dirs.empty()) {
      Vec D(d);
      for (std::size_t c = 0; c < d; ++c) D[c] = to[c] - from[c];
      long best = 0;
      for (const Dir& dir : dirs) {
        Rational t = dot(dir.u, from);
        auto [a, b] = std::equal_range(dir.proj.begin(), dir.proj.end(), t);
        if (b - a > (is_point ? 1 : 0)) continue;  // another point on the hat's line
        long sc = std::max(dir.sizer->output(t, D), dir.sizer->preactivation(t, dir.u));
        if (!use || sc < best) use = &dir, best = sc;
        if (&dir == &dirs.front() && sc < split->p - 3) break;  // plan.u is fine (3 bits spare): keep it
      }
      if (use) plan.worst_bits = std::max(plan.worst_bits, best);
    }
    const Vec& u = use ? use->u : plan.u;
    const std::vector<Rational>& pr = use ? use->proj : proj;
    Hat hat{u, dot(u, from), Rational(0), Vec(d)};
    hat.delta = nearest_gap(for_float ? (use ? use->all : plan_all) : pr, hat.t0);
    if (for_float) {
      DyadicWindow win = dyadic_window(hat.t0, hat.delta);
      hat.t0 = win.center;
      hat.delta = win.delta;
    }
    plan.hats.push_back({from, to, hat.t0, hat.delta, plan.layers.size(), sequences, {}});  // along u
    if (use && use->u != plan.u) plan.hats.back().u = u;
    if (for_float) orient(hat, use ? use->lo : olo, use ? use->hi : ohi);
    for (std::size_t c = 0; c < d; ++c) hat.displacement[c] = to[c] - from[c];
    batch.push_back(std::move(hat));
    if (batch.size() == per_layer || last) {
      plan.layers.push_back(for_float ? trapezoids_layer(batch) : hats_layer(batch));
      batch.clear();
    }
  };
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Move& m = moves[order[i]];
    if (mid[i]) {  // per_layer is 1 here: the coarse hat's layer, then the fine hat's
      add_hat(m.from, *mid[i], m.sequences, true, true);
      add_hat(*mid[i], m.to, m.sequences, i + 1 == order.size(), false);
    } else {
      add_hat(m.from, m.to, m.sequences, i + 1 == order.size(), true);
    }
  }
  return plan;
}

// ---- The attention route (steps 2-5) ----------------------------------------------------------

// A projection (k.x or w.x) of every distinct token: machine integers when integer_projections
// gives them (integer tokens, the common case: 16 bytes a token, no GMP number per token, which at
// 10^7 tokens was ~1.5 GB of memory touched and 3 10^7 allocations), exact rationals otherwise.
// Either way the same exact values; operator[] builds the rational on demand.
class Projections {
 public:
  void set(std::vector<__int128> v) {
    ints_ = std::move(v);
    rats_.clear();
    machine_ = true;
  }
  void set(std::vector<Rational> v) {
    rats_ = std::move(v);
    ints_.clear();
    machine_ = false;
  }
  std::size_t size() const { return machine_ ? ints_.size() : rats_.size(); }
  Rational operator[](std::size_t x) const { return machine_ ? rational_from_int128(ints_[x]) : rats_[x]; }
  bool less(std::size_t a, std::size_t b) const { return machine_ ? ints_[a] < ints_[b] : rats_[a] < rats_[b]; }
  Rational min() const {
    return machine_ ? rational_from_int128(*std::min_element(ints_.begin(), ints_.end()))
                    : *std::min_element(rats_.begin(), rats_.end());
  }

 private:
  bool machine_ = false;
  std::vector<__int128> ints_;
  std::vector<Rational> rats_;
};

class AttentionRoute {
 public:
  AttentionRoute(const Problem& pb, const ConstructOptions& opt, ConstructionTrace& trace, std::size_t block_bound,
                 DirectionOrder order = DirectionOrder::MaxNorm)
      : pb_(pb),
        order_(order),
        p_(opt.float_bits),
        block_bound_(block_bound),
        capped_(opt.max_ff_width != 0),
        ff_(opt.for_float),
        // one flat-top hat per layer in the float construction (see construct_hardmax)
        per_layer_(ff_ ? 1 : capped_ ? opt.max_ff_width / 3 : SIZE_MAX),
        tr_(trace) {}

  // The largest estimated size (bits, HatSizer) of the interpolation hats built (0 before build()).
  long worst_hat_bits() const { return worst_hat_bits_; }

  Model build() {
    choose_key();
    translate();
    const std::size_t G = pb_.contexts.size();
    code_.assign(G, Rational(0));
    promoted_.assign(G, {});
    class_of_.assign(G, 0);
    leader_.resize(G);
    height_.resize(G);
    for (std::size_t g = 0; g < G; ++g) {
      // k.z = k.x + shift_: the same order as k.x.
      leader_[g] = *std::max_element(pb_.contexts[g].begin(), pb_.contexts[g].end(),
                                     [&](std::size_t a, std::size_t b) { return kx_.less(a, b); });
      height_[g] = kz(leader_[g]);
    }
    for (std::size_t r = 0;; ++r) {
      // The classes after this code layer do not depend on lambda (as long as lambda merges no two
      // of them): contexts with the same old class and the same leader height.
      std::vector<std::size_t> next_class = refine_classes();
      auto conflicts = find_conflicts(next_class);
      bool last = conflicts.empty();
      std::optional<HatPlan> hats;
      CodeRound round;
      for (std::size_t i = 0;; ++i) {
        round.lambda = ff_ ? float_lambda(i) : lambda_candidate(i);
        round.lambdas_tried = i + 1;
        std::vector<Rational> code = code_;
        for (std::size_t g = 0; g < G; ++g) code[g] += round.lambda * height_[g];
        if (!codes_separate(code, next_class)) continue;
        if (key_relaxed_ && !positions_apart(code)) continue;
        if (last) {
          std::vector<Move> moves = requirement_moves(code);
          // Split hats only within the guarantee: L = blocks so far + max(1, hats) + splits <= sum m_j + N.
          std::size_t hats_now = 0;
          for (const auto& mv : moves) hats_now += mv.from != mv.to;
          std::size_t used = model_.blocks.size() + std::max<std::size_t>(1, hats_now);
          // Only the float construction reads `others` (sizes, windows); the plain one skips it.
          std::vector<Vec> others;
          if (ff_) others = all_positions(code);
          FloatSplit split{p_, block_bound_ > used ? block_bound_ - used : 0, &others, false, order_};
          hats = plan_interpolation(moves, pb_.d, per_layer_, capped_ || ff_, ff_, &split);
          if (!hats) continue;  // a cycle of targets for this lambda; the next one shifts positions
        }
        code_ = std::move(code);
        break;
      }
      class_of_ = std::move(next_class);
      round.leader = leader_;
      round.leader_height = height_;
      round.code = code_;
      round.class_of = class_of_;
      round.classes = 1 + *std::max_element(class_of_.begin(), class_of_.end());
      round.conflicted_classes = conflicts.size();
      tr_.rounds.push_back(round);
      SelfAttention sa = code_layer(round.lambda);
      std::vector<FeedForward> ffs;
      if (last) {
        ffs = std::move(hats->layers);
        tr_.interpolation_s = hats->s;
        tr_.u = hats->u;
        tr_.hats = std::move(hats->hats);
        worst_hat_bits_ = hats->worst_bits;
        for (auto& h : tr_.hats) h.layer += model_.blocks.size();
      } else {
        ffs = promote(r, conflicts);
      }
      model_.blocks.push_back(Block{std::move(sa), std::nullopt});
      for (std::size_t i = 0; i < ffs.size(); ++i) {
        if (i == 0) model_.blocks.back().ff = std::move(ffs[0]);
        else model_.blocks.push_back(Block{std::nullopt, std::move(ffs[i])});
      }
      if (last) break;
    }
    return std::move(model_);
  }

 private:
  const Problem& pb_;
  DirectionOrder order_;      // the float construction's direction order (key and hats)
  long worst_hat_bits_ = 0;
  long p_;                    // the float construction's target precision
  std::size_t block_bound_;   // sum m_j + N: split hats stay within it
  bool capped_;
  bool ff_;  // the float construction (proofs/float-construction.md)
  bool key_relaxed_ = false;  // k separates the tokens of each context, not all tokens (d = 2, ff_)
  std::size_t per_layer_;
  ConstructionTrace& tr_;
  Model model_;
  Vec k_, w_;
  Rational kk_, ww_;                   // |k|^2, |w|^2
  Projections kx_, wz_;  // per token: k.x, w.x
  Rational shift_;       // c |k|^2 (translation): k.z = k.x + shift_
  std::vector<Rational> code_, height_;
  std::vector<std::size_t> leader_, class_of_;
  std::vector<std::map<std::size_t, Rational>> promoted_;  // per context: token -> its k.pos
  Rational round_top_;  // the tallest leader height before this round's promotions

  // Step 1: k = (1, t, t^2, ...) with distinct projections of the tokens; w = (k_2, -k_1, 0, ...).
  //
  // The float construction in d = 2 asks less (proofs/float-construction.md, "A key per context"):
  // distinct projections within each context (unique leaders), and the lambda schedule then also
  // keeps the positions of different tokens apart (positions_apart). A small key keeps the heights,
  // codes and positions small when many distinct tokens would need a large one.
  void choose_key() {
    const std::size_t d = pb_.d;
    const bool relax = ff_ && d == 2;
    SmallDirections small(d, order_);
    // A repeat among the first eighth of the tokens is a repeat among all of them: a key that
    // repeats there is rejected for an eighth of a full test. The first keys fail by the birthday
    // bound (n projections stay apart only when they range over ~n^2 values): at 10^7 tokens
    // t = 1, 2 fail this way, and only keys that may pass cost a full pass. Not with `relax`, which
    // accepts a key that repeats across contexts. The same key is chosen.
    std::vector<TokenRef> head;
    if (!relax && pb_.tokens.size() >= kKeyPrefixFrom)
      head.assign(pb_.tokens.begin(), pb_.tokens.begin() + static_cast<std::ptrdiff_t>(pb_.tokens.size() / 8));
    for (std::size_t t = 1;; ++t) {
      k_ = ff_ ? small.next() : moment_curve(d, t);
      if (!head.empty())
        if (auto h = integer_projections(k_, head); h && !int128_all_distinct(*h)) continue;
      // Integer tokens (the common case): the projections in machine integers, distinctness by
      // sorting them; the same exact values as the mpq path, so the same key is chosen.
      if (auto fast = integer_projections(k_, pb_.tokens)) {
        bool global = int128_all_distinct(*fast);
        if (!global && !(relax && distinct_in_contexts(*fast))) continue;
        kx_.set(std::move(*fast));
        tr_.key_t = t;
        key_relaxed_ = !global;
        break;
      }
      std::vector<Rational> kx(pb_.tokens.size());
      for (std::size_t x = 0; x < pb_.tokens.size(); ++x) kx[x] = dot(k_, *pb_.tokens[x]);
      bool global = all_distinct(kx);
      if (global || (relax && distinct_in_contexts(kx))) {
        kx_.set(std::move(kx));
        tr_.key_t = t;
        key_relaxed_ = !global;
        break;
      }
    }
    tr_.key_per_context = key_relaxed_;
    w_.assign(d, Rational(0));
    w_[0] = k_[1];
    w_[1] = -k_[0];
    kk_ = dot(k_, k_);
    ww_ = dot(w_, w_);
    if (auto fast = integer_projections(w_, pb_.tokens)) {
      wz_.set(std::move(*fast));
    } else {
      std::vector<Rational> wz(pb_.tokens.size());
      for (std::size_t x = 0; x < pb_.tokens.size(); ++x) wz[x] = dot(w_, *pb_.tokens[x]);
      wz_.set(std::move(wz));
    }
    tr_.k = k_;
    tr_.w = w_;
  }

  template <typename T>
  bool distinct_in_contexts(const std::vector<T>& proj) const {
    std::vector<T> v;
    for (const auto& ctx : pb_.contexts) {
      v.clear();
      for (auto x : ctx) v.push_back(proj[x]);
      std::sort(v.begin(), v.end());
      if (std::adjacent_find(v.begin(), v.end()) != v.end()) return false;
    }
    return true;
  }

  // With a key per context: no two different tokens share a position (k.pos, w.pos) under these
  // codes (in d = 2 the pair is the position). Equal pairs of one token are one class (equal codes).
  bool positions_apart(const std::vector<Rational>& code) const {
    std::map<std::pair<Rational, Rational>, std::size_t> owner;
    for (std::size_t g = 0; g < pb_.contexts.size(); ++g)
      for (auto x : pb_.contexts[g]) {
        auto [it, fresh] = owner.try_emplace({kpos(g, x), wpos(g, x, code)}, x);
        if (!fresh && it->second != x) return false;
      }
    return true;
  }

  // Step 2: move every token by c k, c the least natural number with k.z >= 1 afterwards.
  void translate() {
    Rational lo = kx_.min();
    Rational c(0);
    if (lo < 1) {
      Rational need = (Rational(1) - lo) / kk_;
      Integer q = numerator(need) / denominator(need);
      c = Rational(q);
      if (c < need) c += 1;
    }
    tr_.translation = c;
    shift_ = c * kk_;
    if (c == 0) return;
    FeedForward ff;
    ff.eta = 1;
    ff.U = Matrix(1, pb_.d);
    ff.b = {Rational(1)};
    ff.W = Matrix(pb_.d, 1);
    for (std::size_t i = 0; i < pb_.d; ++i) ff.W(i, 0) = c * k_[i];
    model_.blocks.push_back(Block{std::nullopt, std::move(ff)});
  }

  // Step 3: scores (k.z_i)(k.z_l), all queries positive: each token attends to its context's
  // leader and moves by lambda (k.leader) w.
  SelfAttention code_layer(const Rational& lambda) const {
    SelfAttention sa;
    sa.rho = 1;
    sa.Q = Matrix(1, pb_.d);
    sa.K = Matrix(1, pb_.d);
    sa.factored = true;
    sa.Vleft = Matrix(pb_.d, 1);
    sa.Vright = Matrix(1, pb_.d);
    for (std::size_t i = 0; i < pb_.d; ++i) {
      sa.Q(0, i) = sa.K(0, i) = sa.Vright(0, i) = k_[i];
      sa.Vleft(i, 0) = lambda * w_[i];
    }
    return sa;
  }

  // The float construction's lambda schedule: +-1, +-2, ..., each pair with the sign that keeps
  // the codes smaller first (ties: +).
  Rational float_lambda(std::size_t i) const {
    Rational m(static_cast<long>(i / 2 + 1));
    bool minus_first = largest_code(code_, height_, -m) < largest_code(code_, height_, m);
    return (i % 2 == 0) == minus_first ? Rational(-m) : m;
  }

  Rational kz(std::size_t x) const { return kx_[x] + shift_; }
  Rational kpos(std::size_t g, std::size_t x) const {
    auto it = promoted_[g].find(x);
    return it == promoted_[g].end() ? kz(x) : it->second;
  }
  Rational wpos(std::size_t g, std::size_t x, const std::vector<Rational>& code) const {
    return wz_[x] + code[g] * ww_;
  }

  std::vector<std::size_t> refine_classes() const {
    std::map<std::pair<std::size_t, Rational>, std::size_t> label;
    std::vector<std::size_t> next(pb_.contexts.size());
    for (std::size_t g = 0; g < next.size(); ++g)
      next[g] = label.try_emplace({class_of_[g], height_[g]}, label.size()).first->second;
    return next;
  }

  // Distinct classes must get distinct codes (codes of one class are equal by construction).
  static bool codes_separate(const std::vector<Rational>& code, const std::vector<std::size_t>& cls) {
    std::map<Rational, std::size_t> owner;
    for (std::size_t g = 0; g < code.size(); ++g) {
      auto [it, fresh] = owner.try_emplace(code[g], cls[g]);
      if (!fresh && it->second != cls[g]) return false;
    }
    return true;
  }

  // Step 4: per class with a conflict, its conflicting tokens and their target groups.
  struct Conflict {
    std::size_t class_label;
    // token -> target -> contexts requiring that target (only tokens with >= 2 targets)
    std::map<std::size_t, std::map<std::size_t, std::vector<std::size_t>>> groups;
  };
  std::vector<Conflict> find_conflicts(const std::vector<std::size_t>& cls) const {
    std::map<std::size_t, std::map<std::size_t, std::map<std::size_t, std::vector<std::size_t>>>> by;
    for (const auto& r : pb_.requirements) by[cls[r.context]][r.token][r.target].push_back(r.context);
    std::vector<Conflict> out;
    for (auto& [c, tokens] : by) {
      Conflict cf{c, {}};
      for (auto& [x, targets] : tokens)
        if (targets.size() > 1) cf.groups.emplace(x, std::move(targets));
      if (!cf.groups.empty()) out.push_back(std::move(cf));
    }
    return out;
  }

  bool contains(std::size_t g, std::size_t x) const {
    return std::binary_search(pb_.contexts[g].begin(), pb_.contexts[g].end(), x);
  }

  // Step 5: pick, per conflicted class, the token of a conflicting pair's symmetric difference
  // that separates the most conflicting pairs; move its shared position above every token.
  std::vector<FeedForward> promote(std::size_t round, const std::vector<Conflict>& conflicts) {
    std::vector<Promotion> promos;
    Rational top = *std::max_element(height_.begin(), height_.end());
    round_top_ = top;
    Rational base = Rational(numerator(top) / denominator(top)) + 1;  // floor(top) + 1 > top
    for (const auto& cf : conflicts) {
      const auto& [x, targets] = *cf.groups.begin();
      std::size_t g = targets.begin()->second.front(), h = std::next(targets.begin())->second.front();
      std::vector<std::size_t> candidates;
      std::set_symmetric_difference(pb_.contexts[g].begin(), pb_.contexts[g].end(), pb_.contexts[h].begin(),
                                    pb_.contexts[h].end(), std::back_inserter(candidates));
      std::size_t best = candidates.front(), best_score = 0;
      for (auto p : candidates) {
        std::size_t score = 0;
        for (const auto& [tok, tg] : cf.groups) {
          std::vector<std::pair<std::size_t, std::size_t>> a;  // (with p, without p) per target group
          for (const auto& [y, ctxs] : tg) {
            std::size_t with = 0;
            for (auto c : ctxs) with += contains(c, p);
            a.push_back({with, ctxs.size() - with});
          }
          for (std::size_t i = 0; i < a.size(); ++i)
            for (std::size_t j = i + 1; j < a.size(); ++j)
              score += a[i].first * a[j].second + a[i].second * a[j].first;
        }
        if (score > best_score) best = p, best_score = score;
      }
      Promotion pr;
      pr.round = round;
      pr.class_label = cf.class_label;
      pr.token = best;
      pr.conflict_token = x;
      pr.separated_pairs = best_score;
      for (std::size_t c = 0; c < pb_.contexts.size(); ++c)
        if (class_of_[c] == cf.class_label) (contains(c, best) ? pr.contexts_with : pr.contexts_without).push_back(c);
      pr.from_height = kpos(pr.contexts_with.front(), best);
      pr.to_height = base + Rational(static_cast<long>(promos.size()));
      if (ff_) {
        // The least height above `top` and the round's earlier promotions whose rise is a multiple
        // of |k|^2: the displacement (rise / |k|^2) k is then an integer vector.
        Rational floor_h = promos.empty() ? top : promos.back().to_height;
        Rational m = (floor_h - pr.from_height) / kk_;
        Integer mi = numerator(m) / denominator(m);
        if (Rational(mi) > m) mi -= 1;  // floor
        pr.to_height = pr.from_height + Rational(mi + 1) * kk_;
      }
      promos.push_back(std::move(pr));
    }
    std::vector<FeedForward> layers;
    for (std::size_t lo = 0; lo < promos.size(); lo += per_layer_) {
      std::size_t hi = std::min(promos.size(), lo + (per_layer_ == SIZE_MAX ? promos.size() : per_layer_));
      layers.push_back(promotion_layer(promos, lo, hi, layers.size()));
    }
    for (auto& pr : promos) {
      for (auto c : pr.contexts_with) {
        leader_[c] = pr.token;
        height_[c] = pr.to_height;
      }
      tr_.promotions.push_back(std::move(pr));
    }
    return layers;
  }

  // One feed-forward layer of promotion hats along u = k + alpha w, alpha generic for the
  // current positions (checked exactly on the pairs (k.pos, w.pos)).
  FeedForward promotion_layer(std::vector<Promotion>& promos, std::size_t lo, std::size_t hi, std::size_t nth) {
    std::vector<std::pair<Rational, Rational>> pos;
    for (std::size_t g = 0; g < pb_.contexts.size(); ++g)
      for (auto x : pb_.contexts[g]) pos.emplace_back(kpos(g, x), wpos(g, x, code_));
    std::sort(pos.begin(), pos.end());
    pos.erase(std::unique(pos.begin(), pos.end()), pos.end());
    std::vector<Rational> proj(pos.size());
    Rational alpha;
    for (std::size_t i = 0;; ++i) {
      alpha = ff_ ? integer_candidate(i) : lambda_candidate(i);
      for (std::size_t p = 0; p < pos.size(); ++p) proj[p] = pos[p].first + alpha * pos[p].second;
      std::sort(proj.begin(), proj.end());
      if (std::adjacent_find(proj.begin(), proj.end()) == proj.end()) break;
    }
    Vec u(pb_.d);
    for (std::size_t i = 0; i < pb_.d; ++i) u[i] = k_[i] + alpha * w_[i];
    std::vector<Hat> hats;
    for (std::size_t i = lo; i < hi; ++i) {
      Promotion& pr = promos[i];
      std::size_t g = pr.contexts_with.front();
      Hat hat{u, kpos(g, pr.token) + alpha * wpos(g, pr.token, code_), Rational(0), Vec(pb_.d)};
      hat.delta = nearest_gap(proj, hat.t0);
      if (ff_) {
        DyadicWindow win = dyadic_window(hat.t0, hat.delta);
        hat.t0 = win.center;
        hat.delta = win.delta;
        coarse_promotion(promos, i, hat.t0, hat.delta, proj);
      }
      Rational along = (pr.to_height - pr.from_height) / kk_;
      for (std::size_t c = 0; c < pb_.d; ++c) hat.displacement[c] = along * k_[c];
      pr.t0 = hat.t0;  // along u
      pr.delta = hat.delta;
      if (ff_) orient(hat, proj.front(), proj.back());
      pr.layer = model_.blocks.size() + nth;  // the code layer's block, then one block per extra layer
      hats.push_back(std::move(hat));
    }
    // Later layers of the same round see these positions moved.
    for (std::size_t i = lo; i < hi; ++i)
      for (auto c : promos[i].contexts_with) promoted_[c][promos[i].token] = promos[i].to_height;
    return ff_ ? trapezoids_layer(hats) : hats_layer(hats);
  }

  // The float construction's coarse promotion (proofs/float-construction.md, "Coarse promotions"):
  // to = from + m |k|^2 with m the least multiple of 2^j above the floor (the round's top, or its
  // previous promotion's height), 2^j <= delta/2 and 2^j <= the least rise (in units of |k|^2), so
  // the heights at most double their rise. Then W = 2 D / delta = (2 m / delta) k: integer entries,
  // and the layer's output needs about log2(delta/2) fewer bits (Lemma E). Only for a hat whose plain
  // rise would need >= p bits (otherwise the heights stay as small as before).
  void coarse_promotion(std::vector<Promotion>& promos, std::size_t i, const Rational& center, const Rational& delta,
                        const std::vector<Rational>& proj) const {
    Promotion& pr = promos[i];
    const Rational floor_h = i == 0 ? round_top_ : promos[i - 1].to_height;
    const Rational least = (floor_h - pr.from_height) / kk_;  // m > least
    auto rise = [&](const Rational& step) {  // the least multiple of step above `least`
      Rational r = least / step;
      Integer q = numerator(r) / denominator(r);
      if (Rational(q) > r) q -= 1;  // floor
      return Rational(q + 1) * step;
    };
    Rational m = rise(Rational(1));
    // Only where the plain rise would need >= p bits (HatSizer's estimate over every position).
    std::vector<Vec> pos = all_positions(code_);
    std::vector<const Vec*> pts;
    for (const auto& z : pos) pts.push_back(&z);
    HatSizer sizer(pts, k_, proj, nullptr);
    Vec D(pb_.d);
    for (std::size_t c = 0; c < pb_.d; ++c) D[c] = m * k_[c];
    Rational far = std::max(Rational(0), std::min(proj.back() - center, center - proj.front()));
    if (hat_bits(center, delta, D, far, sizer.zmax, sizer.vmin) >= p_ - 6 && delta / 2 >= 2 && least >= 2 * 64)
      m = rise(std::min(pow2_at_most(delta / 2), pow2_at_most(least / 64)));
    pr.to_height = pr.from_height + m * kk_;
  }

  // Every distinct token position under these codes (the float construction sizes its hats by them).
  std::vector<Vec> all_positions(const std::vector<Rational>& code) const {
    std::set<std::pair<Rational, Rational>> seen;
    std::vector<Vec> out;
    for (std::size_t g = 0; g < pb_.contexts.size(); ++g)
      for (auto x : pb_.contexts[g]) {
        const Rational& kp = kpos(g, x);
        if (!seen.insert({kp, wpos(g, x, code)}).second) continue;
        Vec z = *pb_.tokens[x];
        axpy(z, (kp - kx_[x]) / kk_, k_);
        axpy(z, code[g], w_);
        out.push_back(std::move(z));
      }
    return out;
  }

  // Step 6 input: every distinct requirement position (as a vector) with its target.
  std::vector<Move> requirement_moves(const std::vector<Rational>& code) const {
    // Looked up only (moves keep the requirements' order): hashed, not ordered (an ordered map
    // of 200,000 rational pairs at 10^7 tokens is ~18 comparisons and cache misses a lookup).
    std::unordered_map<std::pair<Rational, Rational>, std::size_t, RationalPairHash> at;
    at.reserve(pb_.requirements.size());
    std::vector<Move> moves;
    for (const auto& r : pb_.requirements) {
      const Rational& kp = kpos(r.context, r.token);
      auto [it, fresh] = at.try_emplace({kp, wpos(r.context, r.token, code)}, moves.size());
      if (!fresh) {
        auto& seqs = moves[it->second].sequences;
        seqs.insert(seqs.end(), r.sequences.begin(), r.sequences.end());
        continue;
      }
      Vec from = *pb_.tokens[r.token];
      axpy(from, (kp - kx_[r.token]) / kk_, k_);
      axpy(from, code[r.context], w_);
      moves.push_back({std::move(from), *pb_.targets[r.target], r.sequences});
    }
    return moves;
  }
};

}  // namespace

Rational lambda_candidate(std::size_t i) {
  // 1, 2, 1/2, 3, 1/3, ...
  if (i == 0) return Rational(1);
  long n = static_cast<long>((i + 1) / 2 + 1);
  return i % 2 == 1 ? Rational(n) : Rational(1, n);
}

Construction construct_model(const Dataset& ds, const ConstructOptions& options) {
  return construct_model(ds, options, check_preconditions(ds, options.causal));
}

namespace {
Construction construct_hardmax(const Dataset& ds, const ConstructOptions& options, const PreconditionReport& pre);
}

namespace {

bool is_dyadic(const Rational& x) {
  const Integer& d = denominator(x);
  return (d & (d - 1)) == 0;
}

/// One feed-forward block z -> eta z + add (the same constant added to every coordinate), with one
/// neuron relu(0 z + 1) = 1 whose output weights are `add`; `add` = 0: the neuron is relu(0) = 0.
Block affine_block(std::size_t d, const Rational& eta, const Rational& add) {
  FeedForward ff;
  ff.eta = eta;
  ff.U = Matrix(1, d);
  ff.b = {Rational(add == 0 ? 0 : 1)};
  ff.W = Matrix(d, 1);
  for (std::size_t c = 0; c < d; ++c) ff.W(c, 0) = add;
  return Block{std::nullopt, std::move(ff)};
}

/// The rescale-and-snap prefix (proofs/float-construction.md, "Short decimals"): if some
/// coordinate (input or target) is not dyadic, s = the lcm of all denominators, and the model is
/// [s z + C][z - C] (the construction on the data scaled by s) [z / s]. In floating point the first
/// block's output is ONE rounding of s fl(x) + C, which is the integer s x + C exactly (Lemma R of
/// proofs/float-bound.md) while |s x| < 2^(p-3): from there on every state is the exact one.
std::optional<Construction> with_snap_prefix(const Dataset& ds, const ConstructOptions& options,
                                             const PreconditionReport& pre, std::string& refused) {
  bool dyadic = true;
  Integer s(1);
  auto take = [&](const Vec& v) {
    for (const Rational& x : v) {
      dyadic = dyadic && is_dyadic(x);
      s = lcm(s, denominator(x));
    }
  };
  for (const auto& q : ds.sequences) {
    for (const auto& v : q.input) take(v);
    for (const auto& v : q.output) take(v);
  }
  if (dyadic) return std::nullopt;
  const long p = options.float_bits;
  Rational largest(0);
  for (const auto& q : ds.sequences)
    for (const auto& v : q.input)
      for (const Rational& x : v) largest = std::max(largest, abs(x) * Rational(s));
  const Rational limit(Integer(1) << (p - 3));
  if (largest >= limit) {
    refused = "the data need the scale s = " + rational_to_string(Rational(s)) + " to reach an integer grid, and s |x| = " +
              rational_to_string(largest) + " >= 2^" + std::to_string(p - 3) + " is too large for the rounding snap with " +
              std::to_string(p) + " significand bits";
    return std::nullopt;
  }
  auto scaled = std::make_shared<Dataset>(ds);
  for (auto& q : scaled->sequences) {
    std::vector<Vec> in = q.input;
    for (auto& v : in)
      for (auto& x : v) x *= Rational(s);
    q.input = in;
    for (auto& v : q.output)
      for (auto& x : v) x *= Rational(s);
  }
  Construction c = construct_hardmax(*scaled, options, pre);
  const Rational C = Rational(3) * Rational(Integer(1) << (p - 2));  // 1.5 2^(p-1)
  std::vector<Block> blocks;
  blocks.push_back(affine_block(ds.d, Rational(s), C));
  blocks.push_back(affine_block(ds.d, Rational(1), -C));
  for (auto& b : c.model.blocks) blocks.push_back(std::move(b));
  blocks.push_back(affine_block(ds.d, Rational(1) / Rational(s), Rational(0)));
  c.model.blocks = std::move(blocks);
  ConstructionTrace& tr = c.trace;
  for (auto& h : tr.hats) h.layer += 2;
  for (auto& pr : tr.promotions) pr.layer += 2;
  tr.snap_scale = Rational(s);
  tr.snap_constant = C;
  tr.snap_blocks = 3;
  tr.scaled = std::move(scaled);
  return c;
}

}  // namespace

Construction construct_model(const Dataset& ds, const ConstructOptions& options, const PreconditionReport& pre) {
  if (options.max_ff_width != 0 && options.max_ff_width < 3)
    throw ConstructionError("--max-ff-width must be 0 (no cap) or at least 3: a hat needs three ReLU neurons");
  // Outside H1-H4 (no obstruction) or causal: proofs/repeated-and-causal.md.
  const bool extended = options.causal || pre.verdict() != Applicability::Applies;
  std::string refused;
  std::optional<Construction> snapped;
  if (options.for_float && options.rescale_prefix && !extended) snapped = with_snap_prefix(ds, options, pre, refused);
  Construction c = snapped ? std::move(*snapped)
                   : extended ? construct_extended(ds, options.causal, options, pre)
                              : construct_hardmax(ds, options, pre);
  c.trace.snap_refused = refused;
  // The float construction needs no final snap: a float evaluation of it is exact (Lemma E of
  // proofs/float-bound.md) wherever its numbers stay below 2^p times their granularity. The
  // extended route is not tuned for floating point; --for-float keeps its final staircase snap.
  if (options.staircase || (options.for_float && extended))
    c.model.blocks.push_back(Block{std::nullopt, staircase_layer(ds)});
  return c;
}

namespace {
Construction construct_hardmax(const Dataset& ds, const ConstructOptions& options, const PreconditionReport& pre) {
  if (options.max_ff_width != 0 && options.max_ff_width < 3)
    throw ConstructionError("--max-ff-width must be 0 (no cap) or at least 3: a hat needs three ReLU neurons");
  if (pre.verdict() != Applicability::Applies) {
    for (const auto& h : pre.hypotheses)
      if (!h.holds) throw ConstructionError("hypothesis " + h.id + " fails: " + h.witness.text);
    throw ConstructionError("the dataset is outside the theorem's hypotheses");
  }
  Problem pb = prepare(ds, pre.token_ids.get());
  Construction out;
  ConstructionTrace& tr = out.trace;
  tr.requirements = pb.requirements.size();
  // The problem's tokens and contexts go to the trace when the construction is done (moved, not
  // copied: 10^7 tokens are ~250 MB).
  auto finish = [&] {
    tr.tokens = std::move(pb.tokens);
    tr.contexts = std::move(pb.contexts);
    tr.context_of_sequence = std::move(pb.context_of_sequence);
  };
  const bool capped = options.max_ff_width != 0;
  if (options.for_float && capped && options.max_ff_width < 4)
    throw ConstructionError("--for-float with --max-ff-width needs at least 4 neurons per layer: its flat-top hats "
                            "take four ReLU neurons");
  // The float construction puts one flat-top hat per layer (whatever the cap): each feed-forward
  // output is then a sum of five terms, small enough for Lemma E (proofs/float-construction.md),
  // and the depth stays within the guarantee L <= sum m_j + N.
  const std::size_t per_layer = options.for_float ? 1 : capped ? options.max_ff_width / 3 : SIZE_MAX;

  // If no token needs two different targets, attention is not needed: hats alone interpolate.
  std::map<std::size_t, std::size_t> target_of_token;
  bool token_conflict = false;
  for (const auto& r : pb.requirements) {
    auto [it, fresh] = target_of_token.try_emplace(r.token, r.target);
    token_conflict = token_conflict || it->second != r.target;
  }
  if (!token_conflict) {
    std::vector<Move> moves;
    std::map<std::size_t, std::size_t> move_of_token;
    for (const auto& r : pb.requirements) {
      auto [it, fresh] = move_of_token.try_emplace(r.token, moves.size());
      if (fresh) moves.push_back({*pb.tokens[r.token], *pb.targets[r.target], {}});
      auto& seqs = moves[it->second].sequences;
      seqs.insert(seqs.end(), r.sequences.begin(), r.sequences.end());
    }
    std::size_t hats_now = 0;
    for (const auto& mv : moves) hats_now += mv.from != mv.to;
    const std::size_t bound = construction_block_bound(ds);
    std::vector<Vec> others;
    if (options.for_float)
      for (const TokenRef& t : pb.tokens) others.push_back(*t);
    FloatSplit split{options.float_bits, bound > hats_now ? bound - hats_now : 0, &others, true};
    if (auto plan = plan_interpolation(moves, ds.d, per_layer, capped || options.for_float, options.for_float, &split)) {
      out.model.d = ds.d;
      for (auto& ff : plan->layers) out.model.blocks.push_back(Block{std::nullopt, std::move(ff)});
      tr.interpolation_s = plan->s;
      tr.u = plan->u;
      tr.hats = std::move(plan->hats);
      finish();
      return out;
    }
    // A cycle of targets under a width cap: the attention route shifts positions off the targets.
  }
  tr.uses_attention = true;
  const ConstructionTrace before = tr;
  AttentionRoute route(pb, options, tr, construction_block_bound(ds));
  out.model = route.build();
  // Item 14 (proofs/float-construction.md, "Directions by l1 norm"): in d > 2, if some interpolation
  // hat along the max-norm directions would need >= p - 3 bits, the construction is made again with
  // directions by l1 norm (sparse keys and hat directions: smaller heights, codes and projections),
  // and that model is kept if its largest hat is smaller. Only a choice: both interpolate exactly.
  if (options.for_float && ds.d > 2 && route.worst_hat_bits() >= options.float_bits - 3) {
    ConstructionTrace tr1 = before;
    AttentionRoute l1(pb, options, tr1, construction_block_bound(ds), DirectionOrder::L1);
    Model m1 = l1.build();
    if (l1.worst_hat_bits() < route.worst_hat_bits()) {
      out.model = std::move(m1);
      tr = std::move(tr1);
      tr.l1_directions = true;
    }
  }
  out.model.d = ds.d;
  finish();
  return out;
}
}  // namespace

}  // namespace interpcert
