#include "interpcert/rational.hpp"

#include <boost/multiprecision/gmp.hpp>
#include <gmp.h>

#include <charconv>
#include <cstdint>
#include <ostream>
#include <stdexcept>

namespace interpcert {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

Integer integer_from_digits(std::string_view digits) {
  Integer z;
  std::string buf(digits);
  mpz_set_str(z.backend().data(), buf.c_str(), 10);
  return z;
}

std::optional<Rational> fail(std::string* why, const char* reason) {
  if (why) *why = reason;
  return std::nullopt;
}

// Up to 18 decimal digits as an unsigned value (fits in a long), or false.
bool small_digits(std::string_view s, unsigned long& v) {
  if (s.empty() || s.size() > 18) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  return true;
}

// The common small forms ("-123", "3/4", "-1.25") straight into an mpq, with no temporary
// strings or integers. Anything else (and every error) takes the general path below.
bool parse_small(std::string_view s, Rational& out) {
  bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  unsigned long num = 0, den = 1;
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    if (!small_digits(s.substr(0, slash), num) || !small_digits(s.substr(slash + 1), den) || den == 0) return false;
  } else if (auto dot = s.find('.'); dot != std::string_view::npos) {
    std::string_view ip = s.substr(0, dot), fp = s.substr(dot + 1);
    if (ip.size() + fp.size() > 18 || (ip.empty() && fp.empty())) return false;
    unsigned long a = 0, b = 0;
    if ((!ip.empty() && !small_digits(ip, a)) || (!fp.empty() && !small_digits(fp, b))) return false;
    for (std::size_t i = 0; i < fp.size(); ++i) den *= 10;
    num = a * den + b;
  } else if (!small_digits(s, num)) {
    return false;
  }
  mpq_ptr q = out.backend().data();
  mpz_set_ui(mpq_numref(q), num);
  if (negative) mpz_neg(mpq_numref(q), mpq_numref(q));
  mpz_set_ui(mpq_denref(q), den);
  if (den != 1) mpq_canonicalize(q);
  return true;
}

}  // namespace

std::optional<Rational> rational_parse(std::string_view text, std::string* why, ExponentBudget* budget) {
  if (Rational r; parse_small(text, r)) return r;  // no exponent: spends no budget
  if (text.empty()) return fail(why, "empty number");
  std::string_view s = text;
  bool negative = false;
  if (s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.empty()) return fail(why, "a sign without digits");

  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    std::string_view p = s.substr(0, slash), q = s.substr(slash + 1);
    if (!all_digits(p) || !all_digits(q))
      return fail(why, "expected p/q with decimal integers p and q > 0");
    Integer den = integer_from_digits(q);
    if (den == 0) return fail(why, "zero denominator");
    Rational r(integer_from_digits(p), den);  // canonicalised by the constructor
    return negative ? Rational(-r) : r;
  }

  // Decimal: digits [. digits] [(e|E) [+|-] digits], at least one mantissa digit.
  std::string_view mant = s, expo;
  if (auto e = s.find_first_of("eE"); e != std::string_view::npos) {
    mant = s.substr(0, e);
    expo = s.substr(e + 1);
    if (expo.empty()) return fail(why, "exponent without digits");
  }
  std::string_view int_part = mant, frac_part;
  if (auto dot = mant.find('.'); dot != std::string_view::npos) {
    int_part = mant.substr(0, dot);
    frac_part = mant.substr(dot + 1);
  }
  if (int_part.empty() && frac_part.empty()) return fail(why, "not a number");
  if ((!int_part.empty() && !all_digits(int_part)) || (!frac_part.empty() && !all_digits(frac_part)))
    return fail(why, "not a number (expected \"p/q\", \"p\" or a decimal such as \"1.25\")");
  long exponent = 0;
  if (!expo.empty()) {
    bool eneg = false;
    if (expo.front() == '+' || expo.front() == '-') {
      eneg = expo.front() == '-';
      expo.remove_prefix(1);
    }
    if (!all_digits(expo)) return fail(why, "malformed exponent");
    // The exponent bound keeps a hostile "1e999999999" from exhausting memory; 10^100000 is
    // still only 332,193 bits, far beyond any sensible input.
    while (expo.size() > 1 && expo.front() == '0') expo.remove_prefix(1);
    if (expo.size() > 7 || std::stol(std::string(expo)) > kMaxDecimalExponent)
      return fail(why, "exponent out of the supported range (|e| <= 100000, proofs/formats-v1.md \"Numbers\")");
    exponent = std::stol(std::string(expo));
    // The file's budget: many moderate exponents must not add up to billions of digits either.
    if (budget) {
      if (static_cast<std::size_t>(exponent) > budget->left)
        return fail(why, "the exponents of this file add up to more than its budget (the sum of |e| over a file's "
                         "numbers is at most 1000000 + 16 x its size in bytes, proofs/formats-v1.md \"Numbers\")");
      budget->left -= static_cast<std::size_t>(exponent);
    }
    if (eneg) exponent = -exponent;
  }
  std::string digits = std::string(int_part) + std::string(frac_part);
  exponent -= static_cast<long>(frac_part.size());
  Integer m = integer_from_digits(digits);
  Integer p10;
  mpz_ui_pow_ui(p10.backend().data(), 10, static_cast<unsigned long>(exponent < 0 ? -exponent : exponent));
  Rational r = exponent >= 0 ? Rational(m * p10) : Rational(m, p10);
  return negative ? Rational(-r) : r;
}

void append_rational(std::string& out, const Rational& q) {
  const mpq_t& v = q.backend().data();
  std::size_t at = out.size();
  // An integer of one limb (the common case): std::to_chars, the same digits as mpz_get_str.
  const mpz_srcptr num = mpq_numref(v);
  if (num->_mp_size >= -1 && num->_mp_size <= 1 && mpz_cmp_ui(mpq_denref(v), 1) == 0) {
    char buf[24];
    char* p = buf;
    if (num->_mp_size < 0) *p++ = '-';
    const std::uint64_t mag = num->_mp_size == 0 ? 0 : static_cast<std::uint64_t>(num->_mp_d[0]);
    p = std::to_chars(p, buf + sizeof buf, mag).ptr;
    out.append(buf, static_cast<std::size_t>(p - buf));
    return;
  }
  // mpz_sizeinbase may overestimate by one; the extra room holds the sign, '/' and the NUL.
  out.resize(at + mpz_sizeinbase(mpq_numref(v), 10) + mpz_sizeinbase(mpq_denref(v), 10) + 3);
  char* p = out.data() + at;
  mpz_get_str(p, 10, mpq_numref(v));
  p += std::char_traits<char>::length(p);
  if (mpz_cmp_ui(mpq_denref(v), 1) != 0) {
    *p++ = '/';
    mpz_get_str(p, 10, mpq_denref(v));
    p += std::char_traits<char>::length(p);
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

std::string rational_to_string(const Rational& q) {
  std::string out;
  append_rational(out, q);
  return out;
}

std::string rational_approx(const Rational& q, int digits) {
  if (q == 0) return "0";
  Rational a = q < 0 ? Rational(-q) : q;
  // e = floor(log10 a), from the digit counts, then corrected by exact comparisons.
  long e = static_cast<long>(mpz_sizeinbase(mpq_numref(a.backend().data()), 10)) -
           static_cast<long>(mpz_sizeinbase(mpq_denref(a.backend().data()), 10));
  auto pow10 = [](long k) {
    Integer p;
    mpz_ui_pow_ui(p.backend().data(), 10, static_cast<unsigned long>(k < 0 ? -k : k));
    return k < 0 ? Rational(Integer(1), p) : Rational(p);
  };
  while (a < pow10(e)) --e;
  while (a >= pow10(e + 1)) ++e;
  Rational scaled = a * pow10(digits - 1 - e);  // in [10^(digits-1), 10^digits)
  Integer m = numerator(scaled) / denominator(scaled);
  std::string ds = m.str();
  std::string out = q < 0 ? "~-" : "~";
  out += ds.substr(0, 1);
  if (ds.size() > 1) out += "." + ds.substr(1);
  return out + "e" + (e < 0 ? "-" : "+") + std::to_string(e < 0 ? -e : e);
}

std::string rational_short(const Rational& q, std::size_t max_chars) {
  std::string exact = rational_to_string(q);
  if (exact.size() <= max_chars) return exact;
  return rational_approx(q) + " (exact value: " + std::to_string(exact.size()) + " characters)";
}

std::size_t rational_bits(const Rational& q) {
  const mpq_t& v = q.backend().data();
  if (mpq_sgn(v) == 0) return 0;
  std::size_t a = mpz_sizeinbase(mpq_numref(v), 2), b = mpz_sizeinbase(mpq_denref(v), 2);
  return a > b ? a : b;
}

std::size_t rational_hash(const Rational& q) {
  const mpq_t& v = q.backend().data();
  auto mix = [](std::uint64_t h, std::uint64_t x) {
    h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
  };
  std::uint64_t h = static_cast<std::uint64_t>(mpq_numref(v)->_mp_size);
  if (mpq_numref(v)->_mp_size != 0) h = mix(h, mpz_getlimbn(mpq_numref(v), 0));
  h = mix(h, static_cast<std::uint64_t>(mpq_denref(v)->_mp_size));
  h = mix(h, mpz_getlimbn(mpq_denref(v), 0));
  return static_cast<std::size_t>(h);
}

}  // namespace interpcert

// ---- Integer and Rational: the out-of-line part of the number types (include/interpcert/rational.hpp).
// Boost.Multiprecision is included here only: its conversions and text are the reference for
// convert_to and str, so every output is what it was when Rational was Boost's type.
static_assert(sizeof(long) == 8, "Integer(long long) assumes a 64-bit long");

namespace interpcert {
namespace {

using BoostInteger = boost::multiprecision::number<boost::multiprecision::gmp_int, boost::multiprecision::et_off>;
using BoostRational =
    boost::multiprecision::number<boost::multiprecision::gmp_rational, boost::multiprecision::et_off>;

BoostInteger to_boost(const Integer& z) {
  BoostInteger b;
  mpz_set(b.backend().data(), z.backend().data());
  return b;
}
BoostRational to_boost(const Rational& q) {
  BoostRational b;
  mpq_set(b.backend().data(), q.backend().data());
  return b;
}

[[noreturn]] void division_by_zero() { throw std::overflow_error("Division by zero."); }

}  // namespace

Integer& Integer::operator=(const Integer& o) {
  if (this == &o) return *this;
  if (!b_.m_data->_mp_d) mpz_init(b_.m_data);
  mpz_set(b_.m_data, o.b_.m_data);
  return *this;
}
std::string Integer::str() const { return to_boost(*this).str(); }
template <> double Integer::convert_to<double>() const { return to_boost(*this).convert_to<double>(); }
template <> long Integer::convert_to<long>() const { return to_boost(*this).convert_to<long>(); }
template <> int Integer::convert_to<int>() const { return to_boost(*this).convert_to<int>(); }
template <> unsigned long Integer::convert_to<unsigned long>() const { return to_boost(*this).convert_to<unsigned long>(); }
template <> long long Integer::convert_to<long long>() const { return to_boost(*this).convert_to<long long>(); }
template <> unsigned long long Integer::convert_to<unsigned long long>() const {
  return to_boost(*this).convert_to<unsigned long long>();
}
Integer& Integer::operator+=(const Integer& o) {
  mpz_add(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Integer& Integer::operator-=(const Integer& o) {
  mpz_sub(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Integer& Integer::operator*=(const Integer& o) {
  mpz_mul(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Integer& Integer::operator/=(const Integer& o) {
  if (o.is_zero()) division_by_zero();
  mpz_tdiv_q(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Integer& Integer::operator%=(const Integer& o) {
  if (o.is_zero()) division_by_zero();
  mpz_tdiv_r(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Integer& Integer::operator<<=(unsigned long bits) {
  mpz_mul_2exp(b_.m_data, b_.m_data, bits);
  return *this;
}
Integer& Integer::operator>>=(unsigned long bits) {
  mpz_fdiv_q_2exp(b_.m_data, b_.m_data, bits);  // Boost's right shift floors, like mpz_fdiv_q_2exp
  return *this;
}
Integer& Integer::operator&=(const Integer& o) {
  mpz_and(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Integer& Integer::operator|=(const Integer& o) {
  mpz_ior(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Integer Integer::operator-() const {
  Integer r(*this);
  mpz_neg(r.b_.m_data, r.b_.m_data);
  return r;
}

Rational::Rational(double v) : Rational(BoostRational(v).backend().data()) {}
Rational::Rational(const std::string& text) : Rational(BoostRational(text).backend().data()) {
  mpq_canonicalize(b_.m_data);  // Boost keeps "2/4" as read; a Rational is always in lowest terms
}
Rational::Rational(const Integer& num, const Integer& den) {
  if (den.is_zero()) division_by_zero();
  mpq_init(b_.m_data);
  mpz_set(mpq_numref(b_.m_data), num.backend().data());
  mpz_set(mpq_denref(b_.m_data), den.backend().data());
  mpq_canonicalize(b_.m_data);
}
Rational& Rational::operator=(const Rational& o) {
  if (this == &o) return *this;
  if (!mpq_numref(b_.m_data)->_mp_d) mpq_init(b_.m_data);
  mpq_set(b_.m_data, o.b_.m_data);
  return *this;
}
std::string Rational::str() const { return to_boost(*this).str(); }
template <> double Rational::convert_to<double>() const { return to_boost(*this).convert_to<double>(); }
template <> long Rational::convert_to<long>() const { return to_boost(*this).convert_to<long>(); }
template <> int Rational::convert_to<int>() const { return to_boost(*this).convert_to<int>(); }
template <> unsigned long Rational::convert_to<unsigned long>() const {
  return to_boost(*this).convert_to<unsigned long>();
}
template <> long long Rational::convert_to<long long>() const { return to_boost(*this).convert_to<long long>(); }
template <> unsigned long long Rational::convert_to<unsigned long long>() const {
  return to_boost(*this).convert_to<unsigned long long>();
}
Rational& Rational::operator+=(const Rational& o) {
  mpq_add(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Rational& Rational::operator-=(const Rational& o) {
  mpq_sub(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Rational& Rational::operator*=(const Rational& o) {
  mpq_mul(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Rational& Rational::operator/=(const Rational& o) {
  if (o.is_zero()) division_by_zero();
  mpq_div(b_.m_data, b_.m_data, o.b_.m_data);
  return *this;
}
Rational Rational::operator-() const {
  Rational r(*this);
  mpq_neg(r.b_.m_data, r.b_.m_data);
  return r;
}
Rational operator+(const Rational& a, const Rational& b) {
  Rational r;
  mpq_add(r.b_.m_data, a.b_.m_data, b.b_.m_data);
  return r;
}
Rational operator-(const Rational& a, const Rational& b) {
  Rational r;
  mpq_sub(r.b_.m_data, a.b_.m_data, b.b_.m_data);
  return r;
}
Rational operator*(const Rational& a, const Rational& b) {
  Rational r;
  mpq_mul(r.b_.m_data, a.b_.m_data, b.b_.m_data);
  return r;
}
Rational operator/(const Rational& a, const Rational& b) {
  if (b.is_zero()) division_by_zero();
  Rational r;
  mpq_div(r.b_.m_data, a.b_.m_data, b.b_.m_data);
  return r;
}

Integer numerator(const Rational& q) { return Integer(mpq_numref(q.backend().data())); }
Integer denominator(const Rational& q) { return Integer(mpq_denref(q.backend().data())); }
Integer abs(const Integer& z) {
  Integer r;
  mpz_abs(r.backend().data(), z.backend().data());
  return r;
}
Rational abs(const Rational& q) {
  Rational r;
  mpq_abs(r.backend().data(), q.backend().data());
  return r;
}
unsigned long msb(const Integer& z) { return boost::multiprecision::msb(to_boost(z)); }
unsigned long lsb(const Integer& z) { return boost::multiprecision::lsb(to_boost(z)); }
bool bit_test(const Integer& z, unsigned long index) { return boost::multiprecision::bit_test(to_boost(z), index); }
Integer gcd(const Integer& a, const Integer& b) {
  Integer r;
  mpz_gcd(r.backend().data(), a.backend().data(), b.backend().data());
  return r;
}
Integer lcm(const Integer& a, const Integer& b) {
  Integer r;
  mpz_lcm(r.backend().data(), a.backend().data(), b.backend().data());
  return r;
}
Integer pow(const Integer& base, unsigned long exponent) {
  Integer r;
  mpz_pow_ui(r.backend().data(), base.backend().data(), exponent);
  return r;
}
Integer sqrt(const Integer& z) { return Integer(boost::multiprecision::sqrt(to_boost(z)).backend().data()); }
std::ostream& operator<<(std::ostream& os, const Integer& z) { return os << to_boost(z); }
std::ostream& operator<<(std::ostream& os, const Rational& q) { return os << to_boost(q); }

}  // namespace interpcert
