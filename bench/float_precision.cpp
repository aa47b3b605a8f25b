// bench/float_precision: for the families of issue 10, the precision needed and the certified
// binary64/binary32 error of the constructed model, without and with --for-float, next to the
// measured error of a plain double/float evaluation (tests/float_oracle.hpp: forward order and FMA).
// Usage: float_precision [--quick]   (prints a markdown table; see bench/README.md)
#include "float_oracle.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/float_bound.hpp"
#include "interpcert/preconditions.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>

using namespace interpcert;
using namespace interpcert::testing;

namespace {

long uniform(std::mt19937_64& rng, long lo, long hi) { return lo + static_cast<long>(rng() % (hi - lo + 1)); }
Vec token(std::mt19937_64& rng, long R) { return {Rational(uniform(rng, -R, R)), Rational(uniform(rng, -R, R))}; }

std::vector<Vec> pool(std::mt19937_64& rng, std::size_t count, long R) {
  std::set<Vec, bool (*)(const Vec&, const Vec&)> seen(lex_less);
  std::vector<Vec> out;
  while (out.size() < count) {
    Vec v = token(rng, R);
    if (seen.insert(v).second) out.push_back(v);
  }
  return out;
}

// Targets consistent with H4: one per (context, token), drawn once.
struct Targets {
  std::map<std::pair<std::vector<Vec>, Vec>, Vec> chosen;
  Vec get(std::mt19937_64& rng, std::vector<Vec> ctx, const Vec& x, long R) {
    std::sort(ctx.begin(), ctx.end(), lex_less);
    auto key = std::make_pair(ctx, x);
    auto it = chosen.find(key);
    if (it != chosen.end()) return it->second;
    return chosen[key] = token(rng, R);
  }
};

void add(Dataset& ds, std::mt19937_64& rng, Targets& tg, std::vector<Vec> seq, std::vector<std::size_t> pos, long R) {
  Sequence s;
  s.input = seq;
  for (std::size_t p : pos) {
    s.output.push_back(tg.get(rng, seq, seq[p], R));
    s.positions.push_back(p);
  }
  ds.sequences.push_back(s);
}

Dataset family(const std::string& name, std::mt19937_64& rng, std::size_t N, long R) {
  Dataset ds;
  ds.d = 2;
  Targets tg;
  if (name == "random" || name == "large-N") {
    for (std::size_t j = 0; j < N; ++j) add(ds, rng, tg, pool(rng, 4, R), {3}, R);
  } else if (name == "shared-pool") {  // the example: a pool of 9 points
    auto P = pool(rng, 9, R);
    for (std::size_t j = 0; j < N; ++j) {
      std::vector<Vec> s = P;
      std::shuffle(s.begin(), s.end(), rng);
      s.resize(2 + rng() % 4);
      add(ds, rng, tg, s, {s.size() - 1}, R);
    }
  } else if (name == "all-subsets") {  // every subset of a pool of 5
    auto P = pool(rng, 5, R);
    for (unsigned mask = 1; mask < 32; ++mask) {
      std::vector<Vec> s;
      for (unsigned i = 0; i < 5; ++i)
        if (mask >> i & 1) s.push_back(P[i]);
      add(ds, rng, tg, s, {0}, R);
    }
  } else if (name == "nested-chain") {
    auto P = pool(rng, std::min<std::size_t>(N, 30) + 1, R);
    for (std::size_t j = 1; j < P.size(); ++j) add(ds, rng, tg, std::vector<Vec>(P.begin(), P.begin() + j + 1), {0}, R);
  } else if (name == "collinear") {
    std::set<long> used;
    for (std::size_t j = 0; j < N; ++j) {
      std::vector<Vec> s;
      std::set<long> here;
      while (s.size() < 4) {
        long t = uniform(rng, -R / 2, R / 2);
        if (here.insert(t).second) s.push_back({Rational(t), Rational(2 * t)});
      }
      add(ds, rng, tg, s, {3}, R);
    }
  } else if (name == "m=n") {
    for (std::size_t j = 0; j < N; ++j) add(ds, rng, tg, pool(rng, 3, R), {0, 1, 2}, R);
  } else if (name == "permuted-copies") {
    for (std::size_t b = 0; b < std::max<std::size_t>(1, N / 4); ++b) {
      auto s = pool(rng, 4, R);
      for (int c = 0; c < 4; ++c) {
        std::shuffle(s.begin(), s.end(), rng);
        add(ds, rng, tg, s, {0, 2}, R);
      }
    }
  }
  return ds;
}

struct Row {
  std::string status;  // "ok" or the reason
  long p_needed = -1;
  Rational rel;
  double measured = 0;  // plain float evaluation, relative, max over forward and FMA orders
};

template <typename F>
double measured_error(const Model& m, const Dataset& ds, const FloatFormat& f) {
  g_rounded.clear();
  double worst = 0;
  for (Order o : {Order::Forward, Order::Fma})
    for (const auto& s : ds.sequences) {
      auto out = float_eval<F>(m, s.input, f, o, false);
      for (std::size_t k = 0; k < s.output.size(); ++k) {
        double tmax = 1;
        for (const auto& y : s.output[k]) tmax = std::max(tmax, std::abs(y.convert_to<double>()));
        for (std::size_t c = 0; c < s.output[k].size(); ++c) {
          F v = out[s.positions[k]][c];
          double e = std::isfinite(static_cast<double>(v))
                         ? std::abs((Rational(static_cast<double>(v)) - s.output[k][c]).convert_to<double>()) / tmax
                         : INFINITY;
          worst = std::max(worst, e);
        }
      }
    }
  return worst;
}

Row measure(const Model& m, const Dataset& ds, const FloatFormat& f, const Rational& eps) {
  Row r;
  FloatBound b = float_error_bound(m, ds, f, f.p);
  r.status = b.ok() ? "ok" : (b.status == FloatBound::Status::Unstable ? "unstable" : "overflow");
  r.rel = b.ok() ? b.relative : Rational(-1);
  PrecisionNeeded need = float_precision_needed(m, ds, f, eps, true, 0, 1024);
  r.p_needed = need.bits ? *need.bits : -1;
  r.measured = f.p == 53 ? measured_error<double>(m, ds, f) : measured_error<float>(m, ds, f);
  return r;
}

std::string cell(const Row& r) {
  char buf[160];
  std::string need = r.p_needed > 0 ? std::to_string(r.p_needed) : ">1024";
  std::string bound = r.status == "ok" ? rational_approx(r.rel) : r.status;
  std::snprintf(buf, sizeof buf, "%s | %s | %.2e", need.c_str(), bound.c_str(), r.measured);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const std::vector<std::string> names = {"random", "shared-pool", "all-subsets", "nested-chain", "collinear",
                                          "m=n", "permuted-copies", "large-N"};
  std::printf("| family | format | N | blocks (default / for-float) | p needed | certified rel. bound | measured rel. error "
              "| p needed (for-float) | certified (for-float) | measured (for-float) |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (int fi = 0; fi < 2; ++fi) {
    const FloatFormat f = *float_format(fi == 0 ? "binary64" : "binary32");
    const long R = fi == 0 ? 1000000 : 100;
    const Rational eps = fi == 0 ? Rational(1, 1000000) : Rational(1, 100);
    for (const auto& name : names) {
      std::size_t N = name == "large-N" ? (fi == 0 ? 1000 : 100) : (quick ? 20 : 100);
      std::mt19937_64 rng(42);
      Dataset ds = family(name, rng, N, R);
      auto t0 = std::chrono::steady_clock::now();
      Construction plain = construct_model(ds);
      ConstructOptions ff;
      ff.for_float = true;
      Construction robust = construct_model(ds, ff);
      Row a = measure(plain.model, ds, f, eps), b = measure(robust.model, ds, f, eps);
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("| %s | %s | %zu | %zu / %zu | %s | %s |\n", name.c_str(), f.name.c_str(), ds.sequences.size(),
                  plain.model.blocks.size(), robust.model.blocks.size(), cell(a).c_str(), cell(b).c_str());
      std::fflush(stdout);
      std::fprintf(stderr, "%s %s: %.1f s\n", name.c_str(), f.name.c_str(), secs);
    }
  }
  std::printf("\np needed: least significand bits for which the analysis certifies max error / max(1, |target|) <= "
              "1e-6 (binary64 rows) or 1e-2 (binary32 rows), exponent range of the format; certified: the bound at the "
              "format's p (relative); measured: a plain evaluation in double/float (forward and FMA orders).\n");
}
