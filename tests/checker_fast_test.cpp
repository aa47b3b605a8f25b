// The checker's structured forward pass (--fast) equals its plain one on random models of every
// shape (the same generator as the engine's differential test), in both of its arithmetics
// (machine-integer fractions, GMP rationals), for any asked positions; and its machine fractions
// (src/checker/frac128.hpp) are exact or refuse, at the int128 edges.
#include "../src/checker/forward.hpp"
#include "../src/checker/forward_fast.hpp"
#include "../src/checker/frac128.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "random_model.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>

using namespace interpcert;
using checker::Frac;

namespace {

// Asked positions: all in order, or a random selection in random order, sometimes with repeats.
std::vector<std::size_t> random_positions(std::mt19937_64& rng, std::size_t n) {
  std::vector<std::size_t> pos(n);
  for (std::size_t i = 0; i < n; ++i) pos[i] = i;
  if (rng() % 3 == 0) return pos;
  std::shuffle(pos.begin(), pos.end(), rng);
  pos.resize(1 + rng() % n);
  if (rng() % 4 == 0) pos.push_back(pos[rng() % pos.size()]);
  return pos;
}

struct PathCounts {
  std::size_t machine = 0, refused = 0;
};

// Every entry point of the structured pass against forward_hardmax, with the tokens stored both
// three ways (the narrowest integers that hold them, int64, rationals).
void require_agreement(const Model& m, const checker::StructuredModel& fast, const std::vector<Vec>& seq,
                       std::mt19937_64& rng, PathCounts& counts) {
  const std::vector<Vec> plain = checker::forward_hardmax(m, seq);
  REQUIRE(fast.forward(seq) == plain);
  const std::vector<std::size_t> pos = random_positions(rng, seq.size());
  std::vector<Vec> expected;
  for (std::size_t p : pos) expected.push_back(plain[p]);
  Tokens compact(seq), wide(seq), rationals(seq);
  wide.store_as(Tokens::Storage::int64);
  rationals.store_as_rationals();
  for (const Tokens* x : {&compact, &wide, &rationals}) {
    REQUIRE(fast.forward_gmp(*x, pos) == expected);
    REQUIRE(fast.forward(*x, pos) == expected);
    if (auto machine = fast.forward_machine(*x, pos)) {
      REQUIRE(*machine == expected);
      ++counts.machine;
    } else {
      ++counts.refused;
    }
  }
}

Integer pow2(unsigned k) { return Integer(1) << k; }
Rational power_of_two(unsigned k) { return Rational(pow2(k)); }

// Every number of m multiplied by s (attention scores then scale by s^2, hats by s: the numbers of
// the pass grow past int64 and int128 for the larger s).
void scale(Model& m, const Rational& s) {
  auto fix = [&](Matrix& a) {
    for (auto& x : a.a) x *= s;
  };
  for (auto& b : m.blocks) {
    if (b.sa) fix(b.sa->Q), fix(b.sa->K), fix(b.sa->V), fix(b.sa->Vleft), fix(b.sa->Vright), b.sa->rho *= s;
    if (b.ff) {
      fix(b.ff->U), fix(b.ff->W);
      for (auto& x : b.ff->b) x *= s;
      b.ff->eta *= s;
    }
  }
}

}  // namespace

TEST_CASE("checker::structured forward pass equals the plain one on random models") {
  std::uint64_t seed = 41;
  std::mt19937_64 rng(seed);
  MESSAGE("seed " << seed);
  PathCounts counts;
  for (int t = 0; t < 2000; ++t) {
    std::size_t d = 1 + rng() % 4, L = 1 + rng() % 6;
    Model m = testing::random_model(rng, d, L);
    checker::StructuredModel fast(m);
    REQUIRE(fast.has_machine_path());  // small numbers
    for (const auto& seq : testing::random_sequences(rng, d, 3, 6)) require_agreement(m, fast, seq, rng, counts);
  }
  // Small numbers: the machine path carries nearly everything (a few deep models outgrow it).
  MESSAGE("machine path " << counts.machine << ", refused (GMP) " << counts.refused);
  CHECK(counts.machine > 10 * counts.refused);
}

TEST_CASE("checker::integer models and tokens (the integer fast path) : structured equals plain") {
  std::uint64_t seed = 43;
  std::mt19937_64 rng(seed);
  MESSAGE("seed " << seed);
  PathCounts counts;
  for (int t = 0; t < 2000; ++t) {
    std::size_t d = 1 + rng() % 4, L = 1 + rng() % 6;
    Model m = testing::random_model(rng, d, L);
    testing::integerize(m, rng);
    if (t % 2) m.mask = MaskKind::Causal;
    checker::StructuredModel fast(m);
    auto seqs = testing::random_sequences(rng, d, 3, 6);
    testing::integerize(seqs, rng);
    for (const auto& seq : seqs) require_agreement(m, fast, seq, rng, counts);
  }
  // Numbers up to 2^90 and beyond after a few layers: both paths are taken.
  MESSAGE("machine path " << counts.machine << ", refused (GMP) " << counts.refused);
  CHECK(counts.machine > 0);
  CHECK(counts.refused > 0);
}

TEST_CASE("checker::causal mask: structured, plain and the engine's reference pass agree") {
  std::uint64_t seed = 42;
  std::mt19937_64 rng(seed);
  MESSAGE("seed " << seed);
  PathCounts counts;
  for (int t = 0; t < 2000; ++t) {
    std::size_t d = 1 + rng() % 4, L = 1 + rng() % 6;
    Model m = testing::random_model(rng, d, L);
    m.mask = MaskKind::Causal;
    checker::StructuredModel fast(m);
    for (const auto& seq : testing::random_sequences(rng, d, 3, 6)) {
      require_agreement(m, fast, seq, rng, counts);
      REQUIRE(evaluate_reference(m, seq) == checker::forward_hardmax(m, seq));
    }
  }
}

TEST_CASE("checker::numbers at the int64 and int128 edges: the machine path is exact or refuses") {
  std::uint64_t seed = 44;
  std::mt19937_64 rng(seed);
  MESSAGE("seed " << seed);
  // Model scales 2^k and token scales around the int64 edge (2^63 - 1 fits an int64 token, 2^63
  // does not; -2^63 does) and past it.
  const unsigned model_shifts[] = {0, 1, 20, 40, 60, 62, 63, 64, 100, 124, 125, 126, 127};
  const Rational token_scales[] = {Rational(1),
                                   power_of_two(20),
                                   power_of_two(61),
                                   power_of_two(62),
                                   Rational(Integer(INT64_MAX)),
                                   power_of_two(63),
                                   power_of_two(63) + 1,
                                   power_of_two(100),
                                   power_of_two(125),
                                   Rational(Integer(1), Integer(1) << 62)};
  PathCounts counts;
  std::size_t models_without_machine_path = 0;
  for (int t = 0; t < 3000; ++t) {
    std::size_t d = 1 + rng() % 4, L = 1 + rng() % 4;
    Model m = testing::random_model(rng, d, L);
    if (t % 2) m.mask = MaskKind::Causal;
    scale(m, power_of_two(model_shifts[rng() % std::size(model_shifts)]));
    checker::StructuredModel fast(m);
    models_without_machine_path += !fast.has_machine_path();
    auto seqs = testing::random_sequences(rng, d, 3, 6);
    for (auto& seq : seqs) {
      const Rational& s = token_scales[rng() % std::size(token_scales)];
      for (auto& z : seq)
        for (auto& x : z) x *= s;
      if (rng() % 4 == 0) seq[0][0] = rng() % 2 ? Rational(Integer(INT64_MIN)) : Rational(Integer(INT64_MAX));
      require_agreement(m, fast, seq, rng, counts);
    }
  }
  MESSAGE("machine path " << counts.machine << ", refused (GMP) " << counts.refused << "; models without a machine path "
                          << models_without_machine_path);
  CHECK(counts.machine > 0);
  CHECK(counts.refused > 0);
  CHECK(models_without_machine_path > 0);
}

namespace {

// Numerators and denominators at and around the edges: 2^63 - 1 (int64), 2^127 - 1 (the largest
// Frac part), 2^127 (not a Frac part), and composites (so that gcds cancel).
std::vector<Integer> edge_integers() {
  std::vector<Integer> v = {Integer(0), Integer(1), Integer(2), Integer(3), Integer(6), Integer(1) << 31};
  for (unsigned k : {62u, 63u, 64u, 100u, 125u, 126u, 127u, 128u}) {
    v.push_back((Integer(1) << k) - 1);
    v.push_back(Integer(1) << k);
    v.push_back((Integer(1) << k) + 1);
  }
  v.push_back(pow(Integer(3), 80));  // ~2^126.8
  v.push_back(pow(Integer(3), 40) * Integer(2));
  v.push_back(pow(Integer(6), 49));  // ~2^126.7, shares factors with 2^k and 3^k
  return v;
}

bool fits(const Rational& q) {
  const Integer limit = Integer(1) << 127;  // parts must be < 2^127 in absolute value
  return abs(numerator(q)) < limit && denominator(q) < limit;
}

}  // namespace

TEST_CASE("checker::Frac: every operation is exact or throws Overflow, at the int128 edges") {
  std::uint64_t seed = 45;
  std::mt19937_64 rng(seed);
  MESSAGE("seed " << seed);
  const auto ints = edge_integers();
  std::vector<Rational> values;
  for (const auto& n : ints)
    for (const auto& d : ints)
      if (d != 0) values.push_back(Rational(n, d)), values.push_back(-Rational(n, d));
  // Conversion: exactly the values whose lowest-terms parts are < 2^127 convert, and round-trip.
  std::vector<std::pair<Rational, Frac>> fracs;
  for (const auto& q : values) {
    bool converted = false;
    try {
      Frac f = Frac::of(q);
      converted = true;
      REQUIRE(f.to_rational() == q);
      REQUIRE(f.sign() == q.sign());
      fracs.push_back({q, f});
    } catch (const Frac::Overflow&) {
    }
    REQUIRE(converted == fits(q));
  }
  // Every operation: the exact result, or Overflow; and never Overflow on a result whose parts
  // and intermediate products are small (|parts| < 2^62 for both operands).
  std::size_t exact = 0, overflow = 0;
  auto small = [](const Rational& q) {
    return abs(numerator(q)) < (Integer(1) << 62) && denominator(q) < (Integer(1) << 62);
  };
  auto check = [&](const Rational& qa, const Rational& qb, const std::function<Rational()>& want,
                   const std::function<Frac()>& got) {
    try {
      Frac f = got();
      REQUIRE(f.to_rational() == want());
      REQUIRE(f.den > 0);  // canonical: to_rational copies the parts as they are
      REQUIRE(Frac::gcd(f.num, f.den) == 1);
      ++exact;
    } catch (const Frac::Overflow&) {
      REQUIRE_FALSE((small(qa) && small(qb)));
      ++overflow;
    }
  };
  for (int t = 0; t < 100000; ++t) {
    const auto& [qa, a] = fracs[rng() % fracs.size()];
    const auto& [qb, b] = fracs[rng() % fracs.size()];
    INFO(qa.str() << " and " << qb.str());
    check(qa, qb, [&] { return qa + qb; }, [&] { return a + b; });
    check(qa, qb, [&] { return qa - qb; }, [&] { return a - b; });
    check(qa, qb, [&] { return qa * qb; }, [&] { return a * b; });
    if (qb != 0) check(qa, qb, [&] { return qa / qb; }, [&] { return a / b; });
    const long c = 1 + static_cast<long>(rng() % 7) * (rng() % 2 ? 1 : (1L << 60));
    check(qa, Rational(c), [&] { return qa / Rational(c); }, [&] { return a.divided_by(c); });
    REQUIRE((a == b) == (qa == qb));
    bool less = false, refused = false;
    try {
      less = a < b;
    } catch (const Frac::Overflow&) {
      refused = true;
    }
    if (refused) REQUIRE_FALSE((small(qa) && small(qb)));
    else REQUIRE(less == (qa < qb));
  }
  MESSAGE(exact << " exact results, " << overflow << " refused");
  CHECK(exact > 0);
  CHECK(overflow > 0);
}

TEST_CASE("checker::Frac: results exactly at the int128 boundary") {
  const Frac two126 = Frac::of(power_of_two(126)), one = 1;
  const Frac max = two126 + (two126 - one);  // 2^127 - 1: the largest part
  CHECK(max.to_rational() == power_of_two(127) - 1);
  CHECK_THROWS_AS(max + one, Frac::Overflow);               // 2^127
  CHECK_THROWS_AS(-two126 + -two126, Frac::Overflow);        // -2^127 = INT128_MIN: excluded too
  CHECK((-max - Frac::of(Rational(0))).to_rational() == -(power_of_two(127) - 1));
  CHECK_THROWS_AS(-max - one, Frac::Overflow);              // -2^127
  const Frac two63 = Frac::of(power_of_two(63)), two64 = Frac::of(power_of_two(64));
  CHECK((two63 * two63).to_rational() == power_of_two(126));
  CHECK_THROWS_AS(two64 * two63, Frac::Overflow);           // 2^127
  CHECK_THROWS_AS(-two64 * two63, Frac::Overflow);          // -2^127
  CHECK_THROWS_AS(Frac::of(power_of_two(127)), Frac::Overflow);
  CHECK_THROWS_AS(Frac::of(-power_of_two(127)), Frac::Overflow);
  CHECK(Frac::of(Rational(Integer(1), pow2(127) - 1)).to_rational() == Rational(Integer(1), pow2(127) - 1));
  CHECK_THROWS_AS(Frac::of(Rational(Integer(1), pow2(127))), Frac::Overflow);
  // A denominator at the edge: (1/(2^127-1)) / 2 needs 2^128 - 2.
  CHECK_THROWS_AS(Frac::of(Rational(Integer(1), pow2(127) - 1)).divided_by(2), Frac::Overflow);
  CHECK(Frac::of(Rational(Integer(2), pow2(127) - 1)).divided_by(2).to_rational() ==
        Rational(Integer(1), pow2(127) - 1));
  // Comparison whose cross products overflow refuses rather than guessing.
  CHECK_THROWS_AS((void)(Frac::of(Rational(pow2(100), Integer(3))) < Frac::of(Rational(Integer(1), pow2(100) + 1))),
                  Frac::Overflow);
}

namespace {

// A wide rank-one feed-forward layer of hats, as the construction builds them (proofs/
// construction.md, step 5): for t = u.z, hat j adds H_j / delta_j (relu(t - t_j + delta_j) -
// 2 relu(t - t_j) + relu(t - t_j - delta_j)), each neuron written as relu(c (t - beta)) / c for a
// c from a small set; c < 0 turns a neuron around (on far left), if `turned`, in the first two
// hats only (a neuron on over many hats would sum their slopes and values: more than 127 bits).
// Centres t_j from `start` on, with gaps up to 2^12, widths up to the gaps (neighbouring hats overlap, a
// support may end at the next centre), heights H_j up to 2^height_bits. With centre_bits +
// height_bits > 127 a neuron's W b needs more than 127 bits: the slope t + offset tabulation
// overflowed there (no machine net), the point-slope one need not.
struct HatLayer {
  FeedForward ff;
  Vec u;
  std::vector<Rational> knots;  // every t_j and t_j +- delta_j
};

Rational random_integer(std::mt19937_64& rng, unsigned bits) {
  Integer v = 0;
  for (unsigned k = 0; k < bits; k += 32) v = (v << 32) + Integer(static_cast<unsigned long>(rng() & 0xffffffffu));
  v >>= (bits + 31) / 32 * 32 - bits;
  return Rational(v);
}

HatLayer hat_layer(std::mt19937_64& rng, const Vec& u, std::size_t hats, const Rational& start, unsigned height_bits,
                   bool turned) {
  const std::size_t d = u.size();
  HatLayer h;
  h.u = u;
  static const Rational cs[] = {Rational(1), Rational(1), Rational(2), Rational(1, 3), Rational(-1)};
  std::vector<Rational> centre(hats), width(hats);
  Rational t = start;
  for (std::size_t j = 0; j < hats; ++j) t += 1 + random_integer(rng, 12), centre[j] = t;
  for (std::size_t j = 0; j < hats; ++j) {
    Rational room = power_of_two(12);  // up to the nearest neighbour's centre
    if (j > 0) room = std::min(room, centre[j] - centre[j - 1]);
    if (j + 1 < hats) room = std::min(room, centre[j + 1] - centre[j]);
    width[j] = rng() % 3 == 0 ? room : Rational(1 + static_cast<long>(rng() % 64)) * room / 64;
  }
  h.ff.eta = 1;
  h.ff.U = Matrix(3 * hats, d);
  h.ff.b.resize(3 * hats);
  h.ff.W = Matrix(d, 3 * hats);
  for (std::size_t j = 0; j < hats; ++j) {
    Vec height(d);
    for (auto& x : height)
      x = rng() % 4 ? random_integer(rng, height_bits) / Rational(1 + static_cast<long>(rng() % 3)) : Rational(0);
    const Rational beta[3] = {centre[j] - width[j], centre[j], centre[j] + width[j]};
    const long weight[3] = {1, -2, 1};
    for (std::size_t k = 0; k < 3; ++k) {
      const std::size_t n = 3 * j + k;
      const Rational& c = cs[rng() % (turned && j < 2 ? std::size(cs) : std::size(cs) - 1)];
      for (std::size_t i = 0; i < d; ++i) h.ff.U(n, i) = c * h.u[i];
      h.ff.b[n] = -c * beta[k];
      for (std::size_t r = 0; r < d; ++r) h.ff.W(r, n) = height[r] * Rational(weight[k]) / (width[j] * c);
      h.knots.push_back(beta[k]);
    }
  }
  return h;
}

// A token z with u.z = t (small other coordinates).
Vec token_at(std::mt19937_64& rng, const Vec& u, const Rational& t) {
  Vec z(u.size());
  Rational rest = t;
  for (std::size_t i = 1; i < u.size(); ++i) z[i] = Rational(static_cast<long>(rng() % 7) - 3), rest -= u[i] * z[i];
  z[0] = rest / u[0];
  return z;
}

// A t where the layer's pieces are interesting: a knot, next to one, between two, or far out.
Rational probe(std::mt19937_64& rng, const HatLayer& h) {
  const Rational& k = h.knots[rng() % h.knots.size()];
  switch (rng() % 6) {
    case 0:
    case 1: return k;
    case 2: return k + Rational(rng() % 2 ? 1 : -1);
    case 3: return (k + h.knots[rng() % h.knots.size()]) / 2;
    case 4: return k + Rational(Integer(static_cast<long>(rng() % 1000) - 500), Integer(7));
    default: return k + power_of_two(30) * (rng() % 2 ? 1 : -1);
  }
}

bool some_product_overflows(const FeedForward& ff) {  // some neuron's W b needs more than 127 bits
  for (std::size_t r = 0; r < ff.W.rows; ++r)
    for (std::size_t j = 0; j < ff.W.cols; ++j)
      if (!fits(ff.W(r, j) * ff.b[j])) return true;
  return false;
}

}  // namespace

TEST_CASE("checker::wide hat layers whose offsets pass 127 bits: the machine path runs and equals plain") {
  std::uint64_t seed = 46;
  std::mt19937_64 rng(seed);
  MESSAGE("seed " << seed);
  PathCounts counts;
  for (int t = 0; t < 40; ++t) {
    const std::size_t d = 1 + rng() % 4;
    Model m;
    m.d = d;
    // One or two layers along one direction u, their hats in one region near +-2^68..2^71 (the
    // second has no turned neurons: tokens moved far by the first would meet a slope there).
    Vec u(d);
    for (auto& x : u) x = Rational(1 + static_cast<long>(rng() % 3)) * (rng() % 4 ? 1 : -1);
    const Rational start = power_of_two(68 + rng() % 4) * (rng() % 2 ? 1 : -1) + random_integer(rng, 20);
    std::vector<HatLayer> layers;
    for (std::size_t L = 1 + rng() % 2; layers.size() < L;) {
      layers.push_back(hat_layer(rng, u, 50 + rng() % 200, start + random_integer(rng, 16), 62, layers.empty()));
      REQUIRE(some_product_overflows(layers.back().ff));  // the slope t + offset table did not fit
      m.blocks.push_back(Block{std::nullopt, layers.back().ff});
    }
    checker::StructuredModel fast(m);
    REQUIRE(fast.has_machine_path());
    REQUIRE(fast.machine_pieces_missing() == 0);
    for (int s = 0; s < 20; ++s) {
      std::vector<Vec> seq;
      for (std::size_t n = 1 + rng() % 5; seq.size() < n;) {
        const HatLayer& h = layers[rng() % layers.size()];
        seq.push_back(token_at(rng, h.u, probe(rng, h)));
      }
      require_agreement(m, fast, seq, rng, counts);
    }
  }
  // Slopes and values stay near 62 + 3 * 14 bits, tokens near 2^71: every sequence fits.
  MESSAGE("machine path " << counts.machine << ", refused (GMP) " << counts.refused);
  CHECK(counts.refused == 0);
}

namespace {

struct Hat {
  Rational centre, width;
  Vec height;
};

// out = z + sum of the hats in t = u.z (one feed-forward block), as hat_layer, every c = 1.
Model hats_model(const Vec& u, const std::vector<Hat>& hats) {
  const std::size_t d = u.size();
  FeedForward ff;
  ff.eta = 1;
  ff.U = Matrix(3 * hats.size(), d);
  ff.b.resize(3 * hats.size());
  ff.W = Matrix(d, 3 * hats.size());
  for (std::size_t j = 0; j < hats.size(); ++j)
    for (std::size_t k = 0; k < 3; ++k) {
      const std::size_t n = 3 * j + k;
      for (std::size_t i = 0; i < d; ++i) ff.U(n, i) = u[i];
      ff.b[n] = -(hats[j].centre + Rational(static_cast<long>(k) - 1) * hats[j].width);
      for (std::size_t r = 0; r < d; ++r) ff.W(r, n) = hats[j].height[r] * Rational(k == 1 ? -2 : 1) / hats[j].width;
    }
  Model m;
  m.d = d;
  m.blocks.push_back(Block{std::nullopt, ff});
  return m;
}

// The machine pass on one token: its output (equal to the plain pass's) or nullopt (refused).
std::optional<Vec> machine_output(const Model& m, const checker::StructuredModel& fast, const Vec& z) {
  const std::vector<Vec> seq = {z};
  auto out = fast.forward_machine(Tokens(seq), {0});
  const Vec plain = checker::forward_hardmax(m, seq)[0];
  REQUIRE(fast.forward(seq)[0] == plain);
  REQUIRE(fast.forward_gmp(Tokens(seq), {0})[0] == plain);
  if (!out) return std::nullopt;
  REQUIRE((*out)[0] == plain);
  return (*out)[0];
}

}  // namespace

TEST_CASE("checker::tabulation at the 127-bit edge: missing pieces, refused breakpoints, GMP fallback") {
  const Vec u = {Rational(1), Rational(1)};
  const Rational H = power_of_two(127) - 1;  // the largest Frac part
  const Hat small{Rational(10), Rational(1), {Rational(0), Rational(5)}};
  // Hat A at 0 of height H: its -2 H neuron does not fit (the Frac sweep refuses, the GMP one
  // converts); pieces (-1, 0] (value H, slope H) and (0, 1] (value 0, slope -H) just fit.
  {
    const Model m = hats_model(u, {{Rational(0), Rational(1), {H, Rational(0)}}, small});
    checker::StructuredModel fast(m);
    REQUIRE(fast.has_machine_path());
    CHECK(fast.machine_pieces_missing() == 0);
    CHECK(machine_output(m, fast, {Rational(-1), Rational(1)}) == Vec{H - 1, Rational(1)});  // t = 0
    CHECK(machine_output(m, fast, {Rational(9), Rational(1)}) == Vec{Rational(9), Rational(6)});  // t = 10
  }
  // Height 2^127: those two pieces are missing, the others are not.
  {
    const Model m = hats_model(u, {{Rational(0), Rational(1), {H + 1, Rational(0)}}, small});
    checker::StructuredModel fast(m);
    REQUIRE(fast.has_machine_path());
    CHECK(fast.machine_pieces_missing() == 2);
    CHECK_FALSE(machine_output(m, fast, {Rational(-1), Rational(1)}));                        // t = 0: (-1, 0]
    CHECK_FALSE(machine_output(m, fast, {Rational(0), Rational(1, 2)}));                      // t = 1/2: (0, 1]
    CHECK_FALSE(machine_output(m, fast, {Rational(1), Rational(0)}));                         // t = 1: (0, 1]
    CHECK(machine_output(m, fast, {Rational(-1), Rational(0)}) == Vec{Rational(-1), Rational(0)});  // t = -1
    CHECK(machine_output(m, fast, {Rational(2), Rational(0)}) == Vec{Rational(2), Rational(0)});    // t = 2
    CHECK(machine_output(m, fast, {Rational(9), Rational(1)}) == Vec{Rational(9), Rational(6)});   // t = 10
  }
  // Breakpoints: 2^127 - 1 is the largest that fits; 2^127 leaves no machine net.
  for (unsigned top : {0u, 1u}) {
    const Rational centre = power_of_two(127) - 2 + Rational(top);
    const Model m = hats_model(u, {small, {centre, Rational(1), {Rational(3), Rational(0)}}});
    checker::StructuredModel fast(m);
    CHECK(fast.has_machine_path() == (top == 0));
    CHECK(fast.machine_pieces_missing() == 0);
    const auto out = machine_output(m, fast, {Rational(9), Rational(1)});
    CHECK(out.has_value() == (top == 0));
    if (out) CHECK(*out == Vec{Rational(9), Rational(6)});
  }
  // Hats at -2^126 and 2^126: the Frac sweep's step between them (2^127) overflows, every piece
  // fits; only tokens whose own step leaves 127 bits are refused.
  {
    const Rational far = power_of_two(126);
    const Model m = hats_model(u, {{-far, Rational(1), {Rational(7), Rational(0)}}, {far - 2, Rational(1), {Rational(0), Rational(7)}}});
    checker::StructuredModel fast(m);
    REQUIRE(fast.has_machine_path());
    CHECK(fast.machine_pieces_missing() == 0);
    CHECK(machine_output(m, fast, {-far, Rational(0)}) == Vec{Rational(7) - far, Rational(0)});
    CHECK(machine_output(m, fast, {far - 3, Rational(1)}) == Vec{far - 3, Rational(8)});
    CHECK(machine_output(m, fast, {Rational(0), Rational(0)}) == Vec{Rational(0), Rational(0)});
  }
}
