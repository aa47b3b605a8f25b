// IEEE-754 binary formats (binary64, binary32, binary16, bfloat16) as exact rationals: every
// finite float is a dyadic rational p / 2^k, so decoding is exact; encoding a rational rounds to
// nearest (ties to even). All of it is integer arithmetic on the bit patterns (GMP), never a
// hardware float, so subnormals, signed zeros and the narrow formats need no special care.
#pragma once

#include "interpcert/rational.hpp"

#include <cstdint>
#include <optional>

namespace interpcert {

/// A binary interchange format: sign bit, `exp_bits` exponent bits, `frac_bits` fraction bits.
struct FloatEncoding {
  int exp_bits, frac_bits;
  int bytes() const { return (1 + exp_bits + frac_bits) / 8; }
  int bias() const { return (1 << (exp_bits - 1)) - 1; }
};
inline constexpr FloatEncoding kEncodingF64{11, 52};
inline constexpr FloatEncoding kEncodingF32{8, 23};
inline constexpr FloatEncoding kEncodingF16{5, 10};
inline constexpr FloatEncoding kEncodingBF16{8, 7};

/// The exact value of the bit pattern `bits` (low 8 * bytes() bits used), or nullopt when it is
/// a NaN or an infinity. Both zeros decode to 0. Exact.
std::optional<Rational> float_decode(std::uint64_t bits, FloatEncoding f);

/// The bit pattern of the float nearest to q (ties to the even significand), as IEEE-754
/// roundTiesToEven does; nullopt when that rounding overflows to an infinity. 0 encodes as +0;
/// a negative q that rounds to zero gives -0. Exact decision (no hardware float involved).
std::optional<std::uint64_t> float_round_nearest(const Rational& q, FloatEncoding f);

/// |x - q| / |q| for q != 0, 0 for q == 0: the relative error of representing q by x. Exact.
Rational float_relative_error(const Rational& q, const Rational& x);

}  // namespace interpcert
