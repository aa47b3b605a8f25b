#include "interpcert/linalg.hpp"

#include <gmp.h>

#include <algorithm>
#include <cstdint>

namespace interpcert {

namespace {

// True if q's denominator is 1 (GMP keeps rationals canonical, so q is then an integer).
inline bool is_integer(const Rational& q) {
  const mpz_srcptr den = mpq_denref(q.backend().data());
  return den->_mp_size == 1 && den->_mp_d[0] == 1;
}

// Integer fast path: when every term is an integer, accumulate numerators with mpz_addmul into
// one mpz (no per-term gcd or canonicalisation as mpq_mul/mpq_add do). The result has
// denominator 1, which is canonical, so it is the same mpq as the plain loop's (tested in
// tests/linalg_test.cpp against plain_dot). Returns false, touching nothing, otherwise.
bool integer_dot(const Rational* a, const Rational* b, std::size_t n, Rational& s) {
  for (std::size_t i = 0; i < n; ++i)
    if (!is_integer(a[i]) || !is_integer(b[i])) return false;
  mpz_ptr acc = mpq_numref(s.backend().data());
  for (std::size_t i = 0; i < n; ++i)
    mpz_addmul(acc, mpq_numref(a[i].backend().data()), mpq_numref(b[i].backend().data()));
  return true;
}

// q as an int64 if it is an integer of at most 63 bits (GMP keeps it canonical: one limb, den 1).
inline bool small_integer(const Rational& q, std::int64_t& v) {
  if (!is_integer(q)) return false;
  const mpz_srcptr num = mpq_numref(q.backend().data());
  if (num->_mp_size == 0) {
    v = 0;
    return true;
  }
  if (num->_mp_size != 1 && num->_mp_size != -1) return false;
  const mp_limb_t limb = num->_mp_d[0];
  if (limb > static_cast<mp_limb_t>(INT64_MAX)) return false;
  v = num->_mp_size > 0 ? static_cast<std::int64_t>(limb) : -static_cast<std::int64_t>(limb);
  return true;
}

}  // namespace

std::optional<std::vector<__int128>> integer_projections(const Vec& k, const std::vector<const Vec*>& xs) {
  static_assert(sizeof(mp_limb_t) == 8, "64-bit limbs");
  const std::size_t d = k.size();
  std::vector<std::int64_t> kk(d);
  for (std::size_t i = 0; i < d; ++i)
    if (!small_integer(k[i], kk[i])) return std::nullopt;
  std::vector<__int128> out(xs.size());
  for (std::size_t j = 0; j < xs.size(); ++j) {
    const Vec& x = *xs[j];
    __int128 s = 0;
    for (std::size_t i = 0; i < d; ++i) {
      std::int64_t xi;
      if (!small_integer(x[i], xi)) return std::nullopt;
      // |k_i x_i| < 2^126: the product fits; only the sum can overflow.
      if (__builtin_add_overflow(s, static_cast<__int128>(kk[i]) * xi, &s)) return std::nullopt;
    }
    out[j] = s;
  }
  return out;
}

Rational rational_from_int128(__int128 v) {
  if (v >= INT64_MIN && v <= INT64_MAX) return Rational(static_cast<long long>(v));
  const bool neg = v < 0;
  // |v| as an unsigned 128-bit value (well defined also for the most negative v).
  const unsigned __int128 a = neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  const std::uint64_t limbs[2] = {static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(a >> 64)};
  Rational q;
  mpz_ptr num = mpq_numref(q.backend().data());
  mpz_import(num, 2, -1, sizeof(std::uint64_t), 0, 0, limbs);
  if (neg) mpz_neg(num, num);
  return q;
}

Rational plain_dot(const Vec& x, const Vec& y) {
  Rational s, t;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mpq_mul(t.backend().data(), x[i].backend().data(), y[i].backend().data());
    mpq_add(s.backend().data(), s.backend().data(), t.backend().data());
  }
  return s;
}

Rational dot(const Vec& x, const Vec& y) {
  Rational s;
  if (integer_dot(x.data(), y.data(), x.size(), s)) return s;
  return plain_dot(x, y);
}

Rational row_dot(const Matrix& m, std::size_t i, const Vec& x) {
  Rational s, t;
  const Rational* row = m.a.data() + i * m.cols;  // not &m.a[...]: UB for an empty matrix
  if (integer_dot(row, x.data(), m.cols, s)) return s;
  for (std::size_t j = 0; j < m.cols; ++j) {
    if (mpq_sgn(row[j].backend().data()) == 0) continue;
    mpq_mul(t.backend().data(), row[j].backend().data(), x[j].backend().data());
    mpq_add(s.backend().data(), s.backend().data(), t.backend().data());
  }
  return s;
}

Vec matvec(const Matrix& m, const Vec& x) {
  Vec y(m.rows);
  for (std::size_t i = 0; i < m.rows; ++i) y[i] = row_dot(m, i, x);
  return y;
}

Matrix matmul(const Matrix& a, const Matrix& b) {
  Matrix c(a.rows, b.cols);
  for (std::size_t i = 0; i < a.rows; ++i)
    for (std::size_t k = 0; k < a.cols; ++k) {
      if (a(i, k) == 0) continue;
      for (std::size_t j = 0; j < b.cols; ++j) c(i, j) += a(i, k) * b(k, j);
    }
  return c;
}

Matrix transpose(const Matrix& a) {
  Matrix t(a.cols, a.rows);
  for (std::size_t i = 0; i < a.rows; ++i)
    for (std::size_t j = 0; j < a.cols; ++j) t(j, i) = a(i, j);
  return t;
}

void axpy(Vec& y, const Rational& s, const Vec& x) {
  if (s == 0) return;
  Rational t;
  for (std::size_t i = 0; i < y.size(); ++i) {
    mpq_mul(t.backend().data(), s.backend().data(), x[i].backend().data());
    mpq_add(y[i].backend().data(), y[i].backend().data(), t.backend().data());
  }
}

void SquareSum::add(const Rational& x) {
  mpq_srcptr q = x.backend().data();
  mpz_addmul(group(mpq_denref(q)).backend().data(), mpq_numref(q), mpq_numref(q));
}

Integer& SquareSum::group(mpz_srcptr den) {
  if (mpz_cmp_ui(den, 1) == 0) return integers_;
  if (mpz_fits_ulong_p(den)) {
    const unsigned long q = mpz_get_ui(den);
    if (last_small_sum_ == nullptr || q != last_small_den_) {
      last_small_sum_ = &by_small_den_[q];  // unordered_map elements stay where they are
      last_small_den_ = q;
    }
    return *last_small_sum_;
  }
  return by_den_[Integer(den)];
}

void SquareSum::add_group(mpz_srcptr den, mpz_srcptr numerator_squares) {
  Integer& acc = group(den);
  mpz_add(acc.backend().data(), acc.backend().data(), numerator_squares);
}

void SquareSum::add_strided(const Rational* first, std::size_t count, std::size_t stride) {
  if (count == 0) return;
  mpz_srcptr den = mpq_denref(first[0].backend().data());
  bool shared = true;
  for (std::size_t i = 1; i < count && shared; ++i)
    shared = mpz_cmp(mpq_denref(first[i * stride].backend().data()), den) == 0;
  if (!shared) {
    for (std::size_t i = 0; i < count; ++i) add(first[i * stride]);
    return;
  }
  // One exact integer sum of the numerators' squares over the common denominator, one lookup.
  thread_local Integer sum;
  mpz_set_ui(sum.backend().data(), 0);
  for (std::size_t i = 0; i < count; ++i) {
    mpz_srcptr p = mpq_numref(first[i * stride].backend().data());
    mpz_addmul(sum.backend().data(), p, p);
  }
  add_group(den, sum.backend().data());
}

namespace {

// q without its factors 2, 3, 5, 7, 11 and 13: the part of a denominator few others share. Groups
// with equal rough parts share most of their denominators' bits, so total() puts them next to each
// other in its tree, whose nodes' lcms, and with them its multiplications, stay smaller (the 337,175
// groups of the 10^7-token hub model, in a prototype: 1.07 s in increasing order of q, 0.56 s in this
// order; pairwise mpq sums in increasing order of q, as before: 2.2 s).
unsigned long rough_part(unsigned long q) {
  q >>= __builtin_ctzl(q);  // q >= 1
  for (unsigned long p : {3UL, 5UL, 7UL, 11UL, 13UL})
    while (q % p == 0) q /= p;
  return q;
}

}  // namespace

Rational SquareSum::total() const {
  // The word-size groups s / q^2 (and the integers, q = 1), summed in a balanced tree whose node
  // holds num / l^2 with l the lcm of its leaves' q: merging a and b, l = l_a (l_b / g) with
  // g = gcd(l_a, l_b), and num = num_a (l_b / g)^2 + num_b (l_a / g)^2. num is never reduced on
  // the way (one gcd per merge, of the l's only, where mpq_add takes two of the squares); the one
  // reduction is at the root. The exact value does not depend on the order.
  struct Leaf {
    unsigned long rough, q;
    const Integer* sum;
  };
  std::vector<Leaf> leaves;
  leaves.reserve(by_small_den_.size() + 1);
  leaves.push_back(Leaf{1, 1, &integers_});
  for (const auto& [q, sum] : by_small_den_) leaves.push_back(Leaf{rough_part(q), q, &sum});
  std::sort(leaves.begin(), leaves.end(),
            [](const Leaf& a, const Leaf& b) { return a.rough != b.rough ? a.rough < b.rough : a.q < b.q; });
  std::vector<Integer> num(leaves.size()), lcm(leaves.size());
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    num[i] = *leaves[i].sum;
    mpz_set_ui(lcm[i].backend().data(), leaves[i].q);
  }
  Integer g, ca, cb;
  for (std::size_t n = leaves.size(); n > 1;) {
    std::size_t half = 0;
    for (std::size_t i = 0; i < n; i += 2, ++half) {
      if (i + 1 < n) {
        mpz_ptr na = num[i].backend().data(), la = lcm[i].backend().data();
        mpz_srcptr nb = num[i + 1].backend().data(), lb = lcm[i + 1].backend().data();
        mpz_gcd(g.backend().data(), la, lb);
        mpz_divexact(ca.backend().data(), lb, g.backend().data());  // a's scale: l / l_a
        mpz_divexact(cb.backend().data(), la, g.backend().data());  // b's scale: l / l_b
        mpz_mul(la, la, ca.backend().data());
        mpz_mul(ca.backend().data(), ca.backend().data(), ca.backend().data());
        mpz_mul(cb.backend().data(), cb.backend().data(), cb.backend().data());
        mpz_mul(na, na, ca.backend().data());
        mpz_addmul(na, nb, cb.backend().data());
      }
      if (half != i) {
        mpz_swap(num[half].backend().data(), num[i].backend().data());
        mpz_swap(lcm[half].backend().data(), lcm[i].backend().data());
      }
    }
    n = half;
  }
  // The root: num / l^2 in lowest terms (l >= 1, so the denominator is positive).
  Rational words;
  {
    mpz_ptr n = num[0].backend().data(), l = lcm[0].backend().data();
    mpz_mul(l, l, l);
    mpz_gcd(g.backend().data(), n, l);
    mpz_divexact(mpq_numref(words.backend().data()), n, g.backend().data());
    mpz_divexact(mpq_denref(words.backend().data()), l, g.backend().data());
  }
  if (by_den_.empty()) return words;
  // Denominators beyond a word (none in the construction's models): pairwise, in the map's order.
  std::vector<Rational> parts;
  parts.reserve(by_den_.size() + 1);
  parts.push_back(std::move(words));
  for (const auto& [den, sum] : by_den_) parts.emplace_back(sum, den * den);
  while (parts.size() > 1) {
    std::size_t half = 0;
    for (std::size_t i = 0; i < parts.size(); i += 2)
      parts[half++] = i + 1 < parts.size() ? parts[i] + parts[i + 1] : parts[i];
    parts.resize(half);
  }
  return parts[0];
}

std::size_t VecHash::operator()(const Vec& v) const {
  std::size_t h = v.size();
  for (const auto& x : v) h ^= rational_hash(x) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

bool lex_less(const Vec& x, const Vec& y) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    int c = mpq_cmp(x[i].backend().data(), y[i].backend().data());
    if (c != 0) return c < 0;
  }
  return false;
}

}  // namespace interpcert
