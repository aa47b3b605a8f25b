#include "arb_ball.hpp"

namespace interpcert {

std::optional<Rational> arf_upper_rational(const arf_t x) {
  if (!arf_is_finite(x) || arf_cmpabs_2exp_si(x, 100000) > 0) return std::nullopt;
  arf_t u;
  arf_init(u);
  arf_set(u, x);
  if (!arf_is_zero(u) && arf_cmpabs_2exp_si(u, -100000) < 0) {
    arf_one(u);
    arf_mul_2exp_si(u, u, -100000);
  }
  fmpq_t f;
  fmpq_init(f);
  arf_get_fmpq(f, u);
  Rational r;
  fmpq_get_mpq(r.backend().data(), f);
  fmpq_clear(f);
  arf_clear(u);
  return r;
}

}  // namespace interpcert
