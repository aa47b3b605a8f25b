#include "interpcert/tokens.hpp"

#include "interpcert/text_util.hpp"

#include <gmp.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <stdexcept>

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

inline Rational from_int64(std::int64_t v) { return Rational(static_cast<long long>(v)); }

inline std::uint64_t mix(std::uint64_t h, std::uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

// One coordinate's hash: from its int64 value when it is an integer that fits (whatever the
// storage), from rational_hash otherwise, so equal values hash equally.
inline std::uint64_t int_hash(std::int64_t v) { return static_cast<std::uint64_t>(v) * 0x9e3779b97f4a7c15ULL; }
inline std::uint64_t coord_hash(const Rational& q) {
  std::int64_t v;
  return as_int64(q, v) ? int_hash(v) : static_cast<std::uint64_t>(rational_hash(q));
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
  Vec z;
  z.reserve(d_);
  if (ints_) {
    const std::int64_t* r = int_row(i);
    for (std::size_t c = 0; c < d_; ++c) z.push_back(from_int64(r[c]));
  } else {
    const Rational* r = rational_row(i);
    z.assign(r, r + d_);
  }
  return z;
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
  if (ints_) ints_data_.reserve(n * d_);
  else rats_.reserve(n * d_);
}

void Tokens::to_rationals() {
  if (!ints_) return;
  rats_.reserve(ints_data_.capacity());
  for (std::int64_t v : ints_data_) rats_.push_back(from_int64(v));
  ints_data_ = std::vector<std::int64_t>();
  ints_ = false;
}

void Tokens::push_back(const Vec& z) {
  if (n_ == 0 && d_ == 0) d_ = z.size();
  if (z.size() != d_) throw std::logic_error("Tokens::push_back: tokens of different lengths");
  if (ints_) {
    const std::size_t at = ints_data_.size();
    ints_data_.resize(at + d_);
    for (std::size_t c = 0; c < d_; ++c)
      if (!as_int64(z[c], ints_data_[at + c])) {
        ints_data_.resize(at);
        to_rationals();
        break;
      }
  }
  if (!ints_) rats_.insert(rats_.end(), z.begin(), z.end());
  ++n_;
}

void Tokens::push_back_ints(const std::int64_t* z, std::size_t d) {
  if (n_ == 0 && d_ == 0) d_ = d;
  if (d != d_) throw std::logic_error("Tokens::push_back_ints: tokens of different lengths");
  if (ints_) {
    ints_data_.insert(ints_data_.end(), z, z + d);
  } else {
    for (std::size_t c = 0; c < d; ++c) rats_.push_back(from_int64(z[c]));
  }
  ++n_;
}

Rational Tokens::coordinate(std::size_t i, std::size_t c) const {
  return ints_ ? from_int64(int_row(i)[c]) : rational_row(i)[c];
}

bool Tokens::token_equal(std::size_t i, const Tokens& o, std::size_t j) const {
  if (d_ != o.d_) return false;
  if (ints_ && o.ints_) {
    const std::int64_t *a = int_row(i), *b = o.int_row(j);
    for (std::size_t c = 0; c < d_; ++c)
      if (a[c] != b[c]) return false;
    return true;
  }
  if (!ints_ && !o.ints_) {
    const Rational *a = rational_row(i), *b = o.rational_row(j);
    for (std::size_t c = 0; c < d_; ++c)
      if (a[c] != b[c]) return false;
    return true;
  }
  // One of each: compare exact values.
  const Tokens& in = ints_ ? *this : o;
  const Tokens& qs = ints_ ? o : *this;
  const std::int64_t* a = in.int_row(ints_ ? i : j);
  const Rational* b = qs.rational_row(ints_ ? j : i);
  for (std::size_t c = 0; c < d_; ++c) {
    std::int64_t v;
    if (!as_int64(b[c], v) || v != a[c]) return false;
  }
  return true;
}

bool Tokens::token_equal(std::size_t i, const Vec& z) const {
  if (z.size() != d_) return false;
  for (std::size_t c = 0; c < d_; ++c) {
    if (ints_) {
      std::int64_t v;
      if (!as_int64(z[c], v) || v != int_row(i)[c]) return false;
    } else if (rational_row(i)[c] != z[c]) {
      return false;
    }
  }
  return true;
}

int Tokens::token_compare(std::size_t i, const Tokens& o, std::size_t j) const {
  for (std::size_t c = 0; c < d_; ++c) {
    int r;
    if (ints_ && o.ints_) {
      const std::int64_t a = int_row(i)[c], b = o.int_row(j)[c];
      r = a < b ? -1 : a > b ? 1 : 0;
    } else if (!ints_ && !o.ints_) {
      r = mpq_cmp(rational_row(i)[c].backend().data(), o.rational_row(j)[c].backend().data());
    } else if (ints_) {  // int64 against a rational: -(q - a)
      const int q = mpq_cmp_si(o.rational_row(j)[c].backend().data(), int_row(i)[c], 1);
      r = q > 0 ? -1 : q < 0 ? 1 : 0;
    } else {
      r = mpq_cmp_si(rational_row(i)[c].backend().data(), o.int_row(j)[c], 1);
    }
    if (r != 0) return r < 0 ? -1 : 1;
  }
  return 0;
}

std::size_t Tokens::token_hash(std::size_t i) const {
  std::uint64_t h = d_;
  for (std::size_t c = 0; c < d_; ++c) h = mix(h, ints_ ? int_hash(int_row(i)[c]) : coord_hash(rational_row(i)[c]));
  return static_cast<std::size_t>(h);
}

void Tokens::append_line(std::string& out, std::size_t i) const {
  if (!ints_) {
    append_numbers_line(out, rational_row(i), d_);
    return;
  }
  const std::int64_t* r = int_row(i);
  char buf[24];
  for (std::size_t c = 0; c < d_; ++c) {
    if (c) out += ' ';
    char* p = std::to_chars(buf, buf + sizeof buf, r[c]).ptr;  // the digits of mpz_get_str
    out.append(buf, static_cast<std::size_t>(p - buf));
  }
  out += '\n';
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
    const std::int64_t* x = t.int_row(xs[j].index);
    __int128 s = 0;
    if (unchecked) {
      for (std::size_t i = 0; i < d; ++i) s += static_cast<__int128>(kk[i]) * x[i];
    } else {
      for (std::size_t i = 0; i < d; ++i)
        // |k_i x_i| <= 2^126: the product fits; only the sum can overflow.
        if (__builtin_add_overflow(s, static_cast<__int128>(kk[i]) * x[i], &s)) return std::nullopt;
    }
    out.push_back(s);
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
