#include "interpcert/tokens.hpp"

#include "interpcert/text_util.hpp"

#include <gmp.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <stdexcept>
#include <type_traits>

namespace interpcert {
namespace {

static_assert(sizeof(long) == 8, "mpz_get_si/mpz_fits_slong_p cover int64");

// q as an int64 when it is an integer in [-2^63, 2^63).
inline bool as_int64(const Rational& q, std::int64_t& v) {
  const mpq_t& r = q.backend().data();
  if (mpz_cmp_ui(mpq_denref(r), 1) != 0 || !mpz_fits_slong_p(mpq_numref(r))) return false;
  v = mpz_get_si(mpq_numref(r));
  return true;
}

inline bool fits_int32(std::int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

// A stored coordinate (int32, int64 or Rational) as the type it is: the row loops below are
// templates over the element types of both operands, one instantiation per pair.
template <class A>
constexpr bool is_int = std::is_integral_v<A>;
// The element type of visit_rows's data pointer P.
template <class P>
using element_t = std::remove_cv_t<std::remove_pointer_t<P>>;

template <class A>
Rational as_rational(const A& a) {
  if constexpr (is_int<A>) return Rational(static_cast<long long>(a));
  else return a;
}

template <class A, class B>
bool coord_equal(const A& a, const B& b) {
  if constexpr (is_int<A> && is_int<B>) {
    return static_cast<std::int64_t>(a) == static_cast<std::int64_t>(b);
  } else if constexpr (is_int<A>) {
    return coord_equal(b, a);
  } else if constexpr (is_int<B>) {
    std::int64_t v;
    return as_int64(a, v) && v == b;
  } else {
    return a == b;
  }
}

// Exact order of two coordinates: -1, 0 or 1.
template <class A, class B>
int coord_compare(const A& a, const B& b) {
  int r;
  if constexpr (is_int<A> && is_int<B>) {
    const std::int64_t x = a, y = b;
    r = x < y ? -1 : x > y ? 1 : 0;
  } else if constexpr (is_int<A>) {  // an integer against a rational: -(q - a)
    const int q = mpq_cmp_si(b.backend().data(), a, 1);
    r = q > 0 ? -1 : q < 0 ? 1 : 0;
  } else if constexpr (is_int<B>) {
    r = mpq_cmp_si(a.backend().data(), b, 1);
  } else {
    r = mpq_cmp(a.backend().data(), b.backend().data());
  }
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}

inline std::uint64_t mix(std::uint64_t h, std::uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

// One coordinate's hash: from its int64 value when it is an integer that fits (whatever the
// storage: an int32 is hashed as the int64 of the same value), from rational_hash otherwise, so
// equal values hash equally.
inline std::uint64_t int_hash(std::int64_t v) { return static_cast<std::uint64_t>(v) * 0x9e3779b97f4a7c15ULL; }
template <class A>
std::uint64_t coord_hash(const A& a) {
  if constexpr (is_int<A>) {
    return int_hash(a);
  } else {
    std::int64_t v;
    return as_int64(a, v) ? int_hash(v) : static_cast<std::uint64_t>(rational_hash(a));
  }
}

}  // namespace

Tokens::Tokens(std::initializer_list<Vec> rows) {
  reserve(rows.size());
  for (const Vec& z : rows) push_back(z);
}

Tokens::Tokens(const std::vector<Vec>& rows) {
  reserve(rows.size());
  for (const Vec& z : rows) push_back(z);
}

const Vec Tokens::operator[](std::size_t i) const {
  return visit_rows([&](const auto* data) {
    const auto* r = data + i * d_;
    Vec z;
    z.reserve(d_);
    for (std::size_t c = 0; c < d_; ++c) z.push_back(as_rational(r[c]));
    return z;
  });
}

std::vector<Vec> Tokens::to_vecs() const {
  std::vector<Vec> out;
  out.reserve(n_);
  for (std::size_t i = 0; i < n_; ++i) out.push_back((*this)[i]);
  return out;
}

void Tokens::reserve(std::size_t n) {
  // d is unknown before the first token; the parser reserves after it knows d (push_back_ints).
  if (d_ == 0) return;
  switch (storage_) {
    case Storage::int32: int32_.reserve(n * d_); break;
    case Storage::int64: int64_.reserve(n * d_); break;
    case Storage::rational: rats_.reserve(n * d_); break;
  }
}

void Tokens::widen_to(Storage s) {
  if (s <= storage_) return;
  const std::size_t capacity = std::max({int32_.capacity(), int64_.capacity(), rats_.capacity()});
  if (s == Storage::int64) {  // from int32
    int64_.reserve(capacity);
    int64_.assign(int32_.begin(), int32_.end());
  } else {
    rats_.reserve(capacity);
    visit_rows([&](const auto* data) {
      for (std::size_t k = 0; k < n_ * d_; ++k) rats_.push_back(as_rational(data[k]));
    });
    int64_ = std::vector<std::int64_t>();
  }
  int32_ = std::vector<std::int32_t>();
  storage_ = s;
}

void Tokens::push_back(const Vec& z) {
  if (n_ == 0 && d_ == 0) d_ = z.size();
  if (z.size() != d_) throw std::logic_error("Tokens::push_back: tokens of different lengths");
  // The narrowest storage that holds this token; the sequence widens to it if needed.
  Storage need = Storage::int32;
  std::int64_t v = 0;
  for (const Rational& q : z) {
    if (!as_int64(q, v)) {
      need = Storage::rational;
      break;
    }
    if (!fits_int32(v)) need = Storage::int64;
  }
  widen_to(need);
  switch (storage_) {
    case Storage::int32:
      for (const Rational& q : z) {
        as_int64(q, v);  // true: checked above
        int32_.push_back(static_cast<std::int32_t>(v));
      }
      break;
    case Storage::int64:
      for (const Rational& q : z) {
        as_int64(q, v);
        int64_.push_back(v);
      }
      break;
    case Storage::rational:
      rats_.insert(rats_.end(), z.begin(), z.end());
      break;
  }
  ++n_;
}

void Tokens::push_back_ints(const std::int64_t* z, std::size_t d) {
  if (n_ == 0 && d_ == 0) d_ = d;
  if (d != d_) throw std::logic_error("Tokens::push_back_ints: tokens of different lengths");
  if (storage_ == Storage::int32 && !std::all_of(z, z + d, fits_int32)) widen_to(Storage::int64);
  switch (storage_) {
    case Storage::int32: {
      const std::size_t at = int32_.size();
      int32_.resize(at + d);
      for (std::size_t c = 0; c < d; ++c) int32_[at + c] = static_cast<std::int32_t>(z[c]);
      break;
    }
    case Storage::int64:
      int64_.insert(int64_.end(), z, z + d);
      break;
    case Storage::rational:
      for (std::size_t c = 0; c < d; ++c) rats_.push_back(as_rational(z[c]));
      break;
  }
  ++n_;
}

Rational Tokens::coordinate(std::size_t i, std::size_t c) const {
  return visit_rows([&](const auto* data) { return as_rational(data[i * d_ + c]); });
}

bool Tokens::token_equal(std::size_t i, const Tokens& o, std::size_t j) const {
  if (d_ != o.d_) return false;
  return visit_rows([&](const auto* a) {
    return o.visit_rows([&](const auto* b) {
      const auto *x = a + i * d_, *y = b + j * d_;
      for (std::size_t c = 0; c < d_; ++c)
        if (!coord_equal(x[c], y[c])) return false;
      return true;
    });
  });
}

bool Tokens::token_equal(std::size_t i, const Vec& z) const {
  if (z.size() != d_) return false;
  return visit_rows([&](const auto* a) {
    const auto* x = a + i * d_;
    for (std::size_t c = 0; c < d_; ++c)
      if (!coord_equal(x[c], z[c])) return false;
    return true;
  });
}

int Tokens::token_compare(std::size_t i, const Tokens& o, std::size_t j) const {
  return visit_rows([&](const auto* a) {
    return o.visit_rows([&](const auto* b) {
      const auto *x = a + i * d_, *y = b + j * o.d_;
      for (std::size_t c = 0; c < d_; ++c)
        if (const int r = coord_compare(x[c], y[c])) return r;
      return 0;
    });
  });
}

std::size_t Tokens::token_hash(std::size_t i) const {
  return visit_rows([&](const auto* a) {
    const auto* x = a + i * d_;
    std::uint64_t h = d_;
    for (std::size_t c = 0; c < d_; ++c) h = mix(h, coord_hash(x[c]));
    return static_cast<std::size_t>(h);
  });
}

void Tokens::append_line(std::string& out, std::size_t i) const {
  visit_rows([&](const auto* a) {
    const auto* x = a + i * d_;
    if constexpr (!is_int<element_t<decltype(a)>>) {
      append_numbers_line(out, x, d_);
    } else {
      char buf[24];
      for (std::size_t c = 0; c < d_; ++c) {
        if (c) out += ' ';
        char* p = std::to_chars(buf, buf + sizeof buf, x[c]).ptr;  // the digits of mpz_get_str
        out.append(buf, static_cast<std::size_t>(p - buf));
      }
      out += '\n';
    }
  });
}

bool operator==(const Tokens& a, const Tokens& b) {
  if (a.n_ != b.n_) return false;
  if (a.n_ == 0) return true;
  for (std::size_t i = 0; i < a.n_; ++i)
    if (!a.token_equal(i, b, i)) return false;
  return true;
}

std::optional<std::vector<__int128>> integer_projections(const Vec& k, const std::vector<TokenRef>& xs) {
  const std::size_t d = k.size();
  std::vector<std::int64_t> kk(d);
  for (std::size_t i = 0; i < d; ++i)
    if (!as_int64(k[i], kk[i])) return std::nullopt;
  // When sum |k_i| <= 2^63, every partial sum is at most 2^63 * 2^63 = 2^126 in magnitude: no
  // check is needed (the key directions are small: (1, 3, ..., 3^15) sums to ~2^24).
  unsigned __int128 l1 = 0;
  for (std::int64_t v : kk) l1 += v < 0 ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  const bool unchecked = l1 <= (static_cast<unsigned __int128>(1) << 63);
  std::vector<__int128> out;
  out.reserve(xs.size());  // written once below (no zero fill first: 160 MB at 10^7 tokens)
  for (std::size_t j = 0; j < xs.size(); ++j) {
    const Tokens& t = *xs[j].tokens;
    if (!t.is_integer() || t.dim() != d) return std::nullopt;
    const bool fits = t.visit_rows([&](const auto* data) {
      if constexpr (!is_int<element_t<decltype(data)>>) {
        return false;  // not reached: is_integer() above
      } else {
        const auto* x = data + xs[j].index * d;
        __int128 s = 0;
        if (unchecked) {
          for (std::size_t i = 0; i < d; ++i) s += static_cast<__int128>(kk[i]) * x[i];
        } else {
          for (std::size_t i = 0; i < d; ++i)
            // |k_i x_i| <= 2^126: the product fits; only the sum can overflow.
            if (__builtin_add_overflow(s, static_cast<__int128>(kk[i]) * x[i], &s)) return false;
        }
        out.push_back(s);
        return true;
      }
    });
    if (!fits) return std::nullopt;
  }
  return out;
}

bool int128_all_distinct(const std::vector<__int128>& values) {
  const std::size_t n = values.size();
  if (n < 2) return true;
  const auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
  const __int128 lo = *lo_it, hi = *hi_it;
  // hi - lo as unsigned: exact (two's complement), whatever the signs.
  const unsigned __int128 range = static_cast<unsigned __int128>(hi) - static_cast<unsigned __int128>(lo);
  if (range >> 64 != 0 || n < 4096) {  // beyond 64 bits, or too few for passes to pay
    std::vector<__int128> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    return std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
  }
  const auto top = static_cast<std::uint64_t>(range);
  if (top < n - 1) return false;  // pigeonhole: n values in fewer than n slots
  constexpr unsigned kBits = 11;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  unsigned width = 0;
  while (width < 64 && (top >> width) != 0) ++width;
  // First pass, most significant digit: scatter the offsets into buckets by their top kBits bits.
  // Buckets hold disjoint value ranges in increasing order, so a repeat lies within one bucket;
  // each bucket (~n / 2^11 values: cache-sized) is then sorted by its low bits and scanned, and
  // the first repeat ends the check: a key that fails (many repeats) costs about this one pass.
  const unsigned high_shift = width > kBits ? width - kBits : 0;
  // Uninitialized (every slot is written before it is read): no zero fill of 2 x 80 MB at 10^7.
  const std::unique_ptr<std::uint64_t[]> a(new std::uint64_t[n]), b(new std::uint64_t[n]);
  std::vector<std::size_t> start(kBuckets + 1);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = static_cast<std::uint64_t>(static_cast<unsigned __int128>(values[i]) - static_cast<unsigned __int128>(lo));
    ++start[(a[i] >> high_shift) + 1];
  }
  for (std::size_t j = 1; j <= kBuckets; ++j) start[j] += start[j - 1];
  {
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) b[next[a[i] >> high_shift]++] = a[i];
  }
  // Within a bucket: least significant digit first (stable) over the high_shift low bits, with
  // a's slots of the bucket as scratch.
  // 8-bit digits there: a bucket holds a few thousand values, and each pass clears and sums its
  // counts (2^11 of them would cost as much as the values at 10^6 tokens).
  constexpr unsigned kLowBits = 8;
  constexpr std::size_t kDigits = std::size_t{1} << kLowBits;
  std::size_t count[kDigits];
  for (std::size_t j = 0; j < kBuckets; ++j) {
    std::uint64_t* in = b.get() + start[j];
    std::uint64_t* out = a.get() + start[j];
    const std::size_t m = start[j + 1] - start[j];
    if (m < 2) continue;
    for (unsigned shift = 0; shift < high_shift; shift += kLowBits) {
      std::fill(count, count + kDigits, 0);
      for (std::size_t i = 0; i < m; ++i) ++count[(in[i] >> shift) & (kDigits - 1)];
      std::size_t sum = 0;
      for (auto& c : count) {
        const std::size_t here = c;
        c = sum;
        sum += here;
      }
      for (std::size_t i = 0; i < m; ++i) out[count[(in[i] >> shift) & (kDigits - 1)]++] = in[i];
      std::swap(in, out);
    }
    if (std::adjacent_find(in, in + m) != in + m) return false;
  }
  return true;
}

}  // namespace interpcert
