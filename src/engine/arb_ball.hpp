// Private to the softmax code: an Arb ball with value semantics, and exact conversions.
#pragma once

#include "interpcert/rational.hpp"

#include <arb.h>
#include <flint/fmpq.h>

#include <optional>

namespace interpcert {

class Ball {
 public:
  arb_t v;
  Ball() { arb_init(v); }
  /// Encloses q (exactly when q is representable at `prec` bits).
  Ball(const Rational& q, long prec) {
    arb_init(v);
    set(v, q, prec);
  }
  ~Ball() { arb_clear(v); }
  Ball(const Ball& o) {
    arb_init(v);
    arb_set(v, o.v);
  }
  Ball& operator=(const Ball& o) {
    arb_set(v, o.v);
    return *this;
  }
  static void set(arb_t out, const Rational& q, long prec) {
    fmpq_t f;
    fmpq_init(f);
    fmpq_set_mpq(f, q.backend().data());
    arb_set_fmpq(out, f, prec);
    fmpq_clear(f);
  }
};

/// The exact value of a finite arf, rounded UP to 2^-100000 when smaller in magnitude (its exponent
/// may be a bignum no rational conversion accepts); nullopt if infinite or beyond 2^100000.
std::optional<Rational> arf_upper_rational(const arf_t x);

}  // namespace interpcert
