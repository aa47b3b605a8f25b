// Exact rational numbers: the number type every claim of interpcert rests on.
#pragma once

#include <boost/multiprecision/gmp.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace interpcert {

/// An exact rational (GMP mpq), always in lowest terms. Expression templates are off so that
/// `auto x = a * b;` is a value, never a dangling expression.
using Rational =
    boost::multiprecision::number<boost::multiprecision::gmp_rational, boost::multiprecision::et_off>;
/// An exact integer (GMP mpz).
using Integer =
    boost::multiprecision::number<boost::multiprecision::gmp_int, boost::multiprecision::et_off>;

/// Limits on decimal exponents (proofs/formats-v1.md, "Numbers"): they keep a short text such as
/// "1e99999" from expanding into a huge number. One number: |e| <= kMaxDecimalExponent.
inline constexpr long kMaxDecimalExponent = 100000;
/// One file: the sum of |e| over all its numbers is at most
/// kExponentBudgetBase + kExponentBudgetPerByte * (file size in bytes), so the digits that
/// exponents add are O(input size).
inline constexpr std::size_t kExponentBudgetBase = 1000000;
inline constexpr std::size_t kExponentBudgetPerByte = 16;

/// What is left of one file's exponent budget; rational_parse spends |e| from it.
struct ExponentBudget {
  std::size_t left;
  /// The budget of a file of `bytes` bytes.
  static ExponentBudget for_input_size(std::size_t bytes) {
    return {kExponentBudgetBase + kExponentBudgetPerByte * bytes};
  }
};

/// Parses "p", "p/q", "-p/q" (decimal integers, q > 0) or a decimal "1.25", "-3e-2", ".5"
/// meaning its exact decimal value. Returns nullopt and sets `why` on anything else
/// (NaN, Infinity, empty text, zero denominator, spaces, |e| > kMaxDecimalExponent, or, when
/// `budget` is given, an exponent beyond what is left of it; a valid number spends |e| of it).
std::optional<Rational> rational_parse(std::string_view text, std::string* why = nullptr,
                                       ExponentBudget* budget = nullptr);

/// Lowest-terms text: "p" when the denominator is 1, otherwise "p/q". Exact.
std::string rational_to_string(const Rational& q);
/// Appends the same text to `out` (no temporary string: canonical texts hold millions of numbers).
void append_rational(std::string& out, const Rational& q);

/// A short approximation for people, "~1.23e+45" (`digits` significant digits, truncated toward
/// zero; computed in integers, so any magnitude works). Never used in a claim.
std::string rational_approx(const Rational& q, int digits = 3);
/// "p/q" when it has at most `max_chars` characters, else the approximation and the digit count.
std::string rational_short(const Rational& q, std::size_t max_chars = 60);

/// Bit length of the larger of |numerator| and denominator (0 for zero). Exact.
std::size_t rational_bits(const Rational& q);

/// A 64-bit hash of the exact value, for hash maps of tokens. Equal values hash equally.
std::size_t rational_hash(const Rational& q);

}  // namespace interpcert
