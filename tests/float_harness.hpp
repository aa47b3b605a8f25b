// The float construction tests' shared harness (float_construction_test, float_snap_test,
// float_split_test): a model certified by both float analyses, and real IEEE evaluations
// (tests/float_oracle.hpp, a test oracle, never a claim) in 4 summation orders x 2 averaging styles
// that must stay within the certified bound.
#pragma once

#include "interpcert/float_bound.hpp"
#include "interpcert/rational.hpp"
#include "float_oracle.hpp"
#include "../src/checker/float.hpp"

#include <doctest/doctest.h>

#include <iostream>
#include <string>

namespace interpcert::testing {

/// max over output coordinates, orders (forward, reverse, pairwise, FMA) and averaging styles of
/// |plain float evaluation - target|, each checked against `bound`.
template <typename F>
Rational oracle_error(const Model& m, const Dataset& ds, const FloatFormat& fmt, const Rational& bound,
                      const std::string& label) {
  Rational worst(0);
  g_rounded.clear();
  for (Order o : {Order::Forward, Order::Reverse, Order::Pairwise, Order::Fma})
    for (bool by_weights : {false, true})
      for (const auto& s : ds.sequences) {
        auto got = float_eval<F>(m, s.input, fmt, o, by_weights);
        for (std::size_t k = 0; k < s.output.size(); ++k)
          for (std::size_t c = 0; c < m.d; ++c) {
            F x = got[s.positions[k]][c];
            REQUIRE(std::isfinite(static_cast<double>(x)));
            Rational err = abs(Rational(static_cast<double>(x)) - s.output[k][c]);
            if (err > bound)
              std::cerr << label << ": order " << static_cast<int>(o) << " error " << rational_approx(err)
                        << " > certified " << rational_approx(bound) << "\n";
            CHECK(err <= bound);
            worst = std::max(worst, err);
          }
      }
  return worst;
}

/// The engine's analysis certifies `eps` (relative: max error / max(1, |target|)) at the format's
/// own precision; the checker's independent analysis verifies the claim certify writes (twice the
/// engine's bound); real double/float evaluations stay within the bound. Returns the engine's bound.
inline FloatBound certify_and_measure(const Model& m, const Dataset& ds, const FloatFormat& fmt, const Rational& eps,
                                      const std::string& label) {
  FloatBound fb = float_error_bound(m, ds, fmt, fmt.p, 1);
  if (!fb.ok()) std::cerr << label << ": " << fb.why << "\n";
  REQUIRE(fb.ok());
  CHECK(fb.relative <= eps);
  std::string why;
  auto own = checker::float_error_bound(m, ds, fmt.p, fmt.emin, fmt.emax, 0, 1, why);
  REQUIRE_MESSAGE(own.has_value(), why);
  CHECK(*own <= fb.bound * 2);
  Rational measured = fmt.p == 53 ? oracle_error<double>(m, ds, fmt, fb.bound, label)
                                  : oracle_error<float>(m, ds, fmt, fb.bound, label);
  MESSAGE(label << ": L = " << m.blocks.size() << ", certified " << rational_approx(fb.bound) << " (relative "
                << rational_approx(fb.relative) << "), measured " << rational_approx(measured));
  return fb;
}

}  // namespace interpcert::testing
