// Exact rational numbers: the number type every claim of interpcert rests on.
#pragma once

#include <gmp.h>

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace interpcert {

// Why not a `using` of Boost.Multiprecision's number<gmp_rational> here: its header is ~190k lines
// after preprocessing (about 5 CPU seconds per translation unit), and nearly every file names a
// Rational, so it dominated a clean build. Integer and Rational below are thin value types over
// GMP's mpz/mpq with the subset of Boost's interface this code uses (backend().data(), numerator,
// denominator, convert_to, str, sign, is_zero, msb, lsb, abs, gcd, lcm, pow); the conversions and
// text whose exact results matter (convert_to, str) are Boost.Multiprecision's own, called from
// the one translation unit that includes it (src/formats/rational.cpp), so every output is what
// it was. Arithmetic is GMP's, as it was under Boost. No expression templates: `auto x = a * b;`
// is a value. A moved-from number may only be assigned to or destroyed (as with Boost).

/// The storage of an Integer: one mpz_t (what Boost's gmp_int backend holds).
struct GmpIntBackend {
  mpz_t m_data;
  mpz_t& data() { return m_data; }
  const mpz_t& data() const { return m_data; }
};

/// The storage of a Rational: one mpq_t in lowest terms (what Boost's gmp_rational holds).
struct GmpRationalBackend {
  mpq_t m_data;
  mpq_t& data() { return m_data; }
  const mpq_t& data() const { return m_data; }
};

/// An exact integer (GMP mpz).
class Integer {
 public:
  Integer() { mpz_init(b_.m_data); }
  Integer(int v) { mpz_init_set_si(b_.m_data, v); }
  Integer(long v) { mpz_init_set_si(b_.m_data, v); }
  Integer(long long v) : Integer(static_cast<long>(v)) {}  // long is 64-bit on every target we build for
  Integer(unsigned v) { mpz_init_set_ui(b_.m_data, v); }
  Integer(unsigned long v) { mpz_init_set_ui(b_.m_data, v); }
  Integer(unsigned long long v) : Integer(static_cast<unsigned long>(v)) {}
  explicit Integer(mpz_srcptr v) { mpz_init_set(b_.m_data, v); }
  Integer(const Integer& o) { mpz_init_set(b_.m_data, o.b_.m_data); }
  Integer(Integer&& o) noexcept : b_(o.b_) { o.b_.m_data->_mp_d = nullptr; }
  Integer& operator=(const Integer& o);
  Integer& operator=(Integer&& o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~Integer() {
    if (b_.m_data->_mp_d) mpz_clear(b_.m_data);
  }

  GmpIntBackend& backend() { return b_; }
  const GmpIntBackend& backend() const { return b_; }

  int sign() const { return mpz_sgn(b_.m_data); }
  bool is_zero() const { return sign() == 0; }
  /// Decimal text (Boost's str()).
  std::string str() const;
  /// Boost's convert_to: T is double, long, unsigned long, long long, unsigned long long or int.
  template <class T>
  T convert_to() const;
  /// static_cast<long>(z) and the like, as Boost's explicit conversions.
  template <class T>
    requires std::is_arithmetic_v<T>
  explicit operator T() const {
    return convert_to<T>();
  }

  Integer& operator+=(const Integer& o);
  Integer& operator-=(const Integer& o);
  Integer& operator*=(const Integer& o);
  /// Truncating division, as Boost's (std::overflow_error on division by zero).
  Integer& operator/=(const Integer& o);
  /// Remainder of the truncating division (sign of the dividend).
  Integer& operator%=(const Integer& o);
  Integer& operator<<=(unsigned long bits);
  Integer& operator>>=(unsigned long bits);
  Integer& operator&=(const Integer& o);
  Integer& operator|=(const Integer& o);
  Integer& operator++() { return *this += 1; }
  Integer& operator--() { return *this -= 1; }
  Integer operator-() const;

  friend Integer operator+(Integer a, const Integer& b) { return a += b; }
  friend Integer operator-(Integer a, const Integer& b) { return a -= b; }
  friend Integer operator*(Integer a, const Integer& b) { return a *= b; }
  friend Integer operator/(Integer a, const Integer& b) { return a /= b; }
  friend Integer operator%(Integer a, const Integer& b) { return a %= b; }
  friend Integer operator&(Integer a, const Integer& b) { return a &= b; }
  friend Integer operator|(Integer a, const Integer& b) { return a |= b; }
  friend Integer operator<<(Integer a, unsigned long bits) { return a <<= bits; }
  friend Integer operator>>(Integer a, unsigned long bits) { return a >>= bits; }
  friend bool operator==(const Integer& a, const Integer& b) { return mpz_cmp(a.b_.m_data, b.b_.m_data) == 0; }
  friend bool operator!=(const Integer& a, const Integer& b) { return mpz_cmp(a.b_.m_data, b.b_.m_data) != 0; }
  friend bool operator<(const Integer& a, const Integer& b) { return mpz_cmp(a.b_.m_data, b.b_.m_data) < 0; }
  friend bool operator<=(const Integer& a, const Integer& b) { return mpz_cmp(a.b_.m_data, b.b_.m_data) <= 0; }
  friend bool operator>(const Integer& a, const Integer& b) { return mpz_cmp(a.b_.m_data, b.b_.m_data) > 0; }
  friend bool operator>=(const Integer& a, const Integer& b) { return mpz_cmp(a.b_.m_data, b.b_.m_data) >= 0; }

 private:
  GmpIntBackend b_;
};

/// An exact rational (GMP mpq), always in lowest terms.
class Rational {
 public:
  Rational() { mpq_init(b_.m_data); }
  Rational(int v) : Rational(static_cast<long>(v)) {}
  Rational(long v) {
    mpq_init(b_.m_data);
    mpq_set_si(b_.m_data, v, 1);
  }
  Rational(long long v) : Rational(Integer(v)) {}
  Rational(unsigned v) : Rational(static_cast<unsigned long>(v)) {}
  Rational(unsigned long v) {
    mpq_init(b_.m_data);
    mpq_set_ui(b_.m_data, v, 1);
  }
  Rational(unsigned long long v) : Rational(Integer(v)) {}
  Rational(const Integer& v) {
    mpq_init(b_.m_data);
    mpq_set_z(b_.m_data, v.backend().data());
  }
  /// The exact value of a finite double (Boost's conversion).
  Rational(double v);
  /// Boost's parse of "p", "p/q" (not the dataset reader: that is rational_parse).
  explicit Rational(const std::string& text);
  explicit Rational(const char* text) : Rational(std::string(text)) {}
  /// num / den in lowest terms (std::overflow_error if den is 0, as Boost's).
  Rational(const Integer& num, const Integer& den);
  explicit Rational(mpq_srcptr v) {
    mpq_init(b_.m_data);
    mpq_set(b_.m_data, v);
  }
  Rational(const Rational& o) {
    mpq_init(b_.m_data);
    mpq_set(b_.m_data, o.b_.m_data);
  }
  Rational(Rational&& o) noexcept : b_(o.b_) { mpq_numref(o.b_.m_data)->_mp_d = nullptr; }
  Rational& operator=(const Rational& o);
  Rational& operator=(Rational&& o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~Rational() {
    if (mpq_numref(b_.m_data)->_mp_d) mpq_clear(b_.m_data);
  }

  GmpRationalBackend& backend() { return b_; }
  const GmpRationalBackend& backend() const { return b_; }

  int sign() const { return mpq_sgn(b_.m_data); }
  bool is_zero() const { return sign() == 0; }
  /// "p" or "p/q" (Boost's str()).
  std::string str() const;
  /// Boost's convert_to: T is double, long, unsigned long, long long, unsigned long long or int.
  template <class T>
  T convert_to() const;
  template <class T>
    requires std::is_arithmetic_v<T>
  explicit operator T() const {
    return convert_to<T>();
  }

  Rational& operator+=(const Rational& o);
  Rational& operator-=(const Rational& o);
  Rational& operator*=(const Rational& o);
  /// std::overflow_error on division by zero, as Boost's.
  Rational& operator/=(const Rational& o);
  Rational operator-() const;

  friend Rational operator+(const Rational& a, const Rational& b);
  friend Rational operator-(const Rational& a, const Rational& b);
  friend Rational operator*(const Rational& a, const Rational& b);
  friend Rational operator/(const Rational& a, const Rational& b);
  friend bool operator==(const Rational& a, const Rational& b) { return mpq_equal(a.b_.m_data, b.b_.m_data) != 0; }
  friend bool operator!=(const Rational& a, const Rational& b) { return mpq_equal(a.b_.m_data, b.b_.m_data) == 0; }
  friend bool operator<(const Rational& a, const Rational& b) { return mpq_cmp(a.b_.m_data, b.b_.m_data) < 0; }
  friend bool operator<=(const Rational& a, const Rational& b) { return mpq_cmp(a.b_.m_data, b.b_.m_data) <= 0; }
  friend bool operator>(const Rational& a, const Rational& b) { return mpq_cmp(a.b_.m_data, b.b_.m_data) > 0; }
  friend bool operator>=(const Rational& a, const Rational& b) { return mpq_cmp(a.b_.m_data, b.b_.m_data) >= 0; }

 private:
  GmpRationalBackend b_;
};

template <> double Integer::convert_to<double>() const;
template <> long Integer::convert_to<long>() const;
template <> int Integer::convert_to<int>() const;
template <> unsigned long Integer::convert_to<unsigned long>() const;
template <> long long Integer::convert_to<long long>() const;
template <> unsigned long long Integer::convert_to<unsigned long long>() const;
template <> double Rational::convert_to<double>() const;
template <> long Rational::convert_to<long>() const;
template <> int Rational::convert_to<int>() const;
template <> unsigned long Rational::convert_to<unsigned long>() const;
template <> long long Rational::convert_to<long long>() const;
template <> unsigned long long Rational::convert_to<unsigned long long>() const;

Integer numerator(const Rational& q);
Integer denominator(const Rational& q);
Integer abs(const Integer& z);
Rational abs(const Rational& q);
/// Index of the most / least significant set bit of z > 0 (Boost's msb, lsb).
unsigned long msb(const Integer& z);
unsigned long lsb(const Integer& z);
/// Whether bit `index` of z is set (Boost's bit_test).
bool bit_test(const Integer& z, unsigned long index);
Integer gcd(const Integer& a, const Integer& b);
Integer lcm(const Integer& a, const Integer& b);
Integer pow(const Integer& base, unsigned long exponent);
Integer sqrt(const Integer& z);
std::ostream& operator<<(std::ostream& os, const Integer& z);
std::ostream& operator<<(std::ostream& os, const Rational& q);

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
