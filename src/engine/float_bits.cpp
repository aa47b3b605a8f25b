#include "interpcert/float_bits.hpp"

#include <gmp.h>

namespace interpcert {
namespace {

// m * 2^k, exactly.
Rational dyadic(const Integer& m, long k) {
  Rational r(m);
  if (k >= 0)
    mpq_mul_2exp(r.backend().data(), r.backend().data(), static_cast<mp_bitcnt_t>(k));
  else
    mpq_div_2exp(r.backend().data(), r.backend().data(), static_cast<mp_bitcnt_t>(-k));
  return r;
}

Integer shifted(const Integer& x, long k) {  // x * 2^k for k >= 0
  Integer r;
  mpz_mul_2exp(r.backend().data(), x.backend().data(), static_cast<mp_bitcnt_t>(k));
  return r;
}

long bit_length(const Integer& x) { return static_cast<long>(mpz_sizeinbase(x.backend().data(), 2)); }

}  // namespace

std::optional<Rational> float_decode(std::uint64_t bits, FloatEncoding f) {
  const std::uint64_t exp_max = (std::uint64_t{1} << f.exp_bits) - 1;
  const std::uint64_t frac_mask = (std::uint64_t{1} << f.frac_bits) - 1;
  const bool negative = (bits >> (f.exp_bits + f.frac_bits)) & 1;
  const std::uint64_t E = (bits >> f.frac_bits) & exp_max;
  const std::uint64_t F = bits & frac_mask;
  if (E == exp_max) return std::nullopt;  // infinity (F = 0) or NaN
  // Subnormals (E = 0) have no hidden bit and the exponent of E = 1.
  Integer m = E ? Integer(F | (std::uint64_t{1} << f.frac_bits)) : Integer(F);
  long k = (E ? static_cast<long>(E) : 1L) - f.bias() - f.frac_bits;
  Rational v = dyadic(m, k);
  return negative ? Rational(-v) : v;
}

std::optional<std::uint64_t> float_round_nearest(const Rational& q, FloatEncoding f) {
  const int sign_shift = f.exp_bits + f.frac_bits;
  if (q == 0) return std::uint64_t{0};
  const bool negative = q < 0;
  const Integer n = abs(numerator(q)), d = denominator(q);
  // e = floor(log2 |q|): 2^e <= n/d < 2^(e+1).
  long e = bit_length(n) - bit_length(d);
  if (e >= 0 ? n < shifted(d, e) : shifted(n, -e) < d) --e;
  const long emin = 1 - f.bias();
  if (e < emin) e = emin;  // subnormal range: the quantum is fixed at 2^(emin - frac_bits)
  // |q| / 2^(e - frac_bits) = num / den; round it to an integer, ties to even.
  const long k = e - f.frac_bits;
  Integer num = k <= 0 ? shifted(n, -k) : n, den = k > 0 ? shifted(d, k) : d;
  Integer m = num / den, rem = num % den;
  Integer twice = rem * 2;
  if (twice > den || (twice == den && mpz_odd_p(m.backend().data()))) ++m;
  const Integer hidden = shifted(Integer(1), f.frac_bits);
  if (m == shifted(hidden, 1)) {  // rounding carried into the next binade
    m = hidden;
    ++e;
  }
  std::uint64_t E = 0, F = 0;
  if (m >= hidden) {
    E = static_cast<std::uint64_t>(e + f.bias());
    F = static_cast<std::uint64_t>((m - hidden).convert_to<unsigned long long>());
  } else {
    F = static_cast<std::uint64_t>(m.convert_to<unsigned long long>());  // subnormal or zero
  }
  if (E >= (std::uint64_t{1} << f.exp_bits) - 1) return std::nullopt;  // overflow to infinity
  return (std::uint64_t{negative} << sign_shift) | (E << f.frac_bits) | F;
}

Rational float_relative_error(const Rational& q, const Rational& x) {
  if (q == 0) return Rational(0);
  return abs(x - q) / abs(q);
}

}  // namespace interpcert
