#include "forward_fast.hpp"

#include "frac128.hpp"

#include <gmp.h>

#include <algorithm>
#include <mutex>
#include <numeric>
#include <type_traits>

namespace interpcert::checker {

// One algorithm, two number types: T = Rational (GMP) or Frac (machine integers, throws
// Frac::Overflow rather than round). The pass below is written once for both, so the two
// arithmetics cannot disagree on what is computed, only on whether it fits.
template <class T>
struct StructuredModel::Net {
  struct Dense {  // row-major
    std::size_t rows = 0, cols = 0;
    std::vector<T> a;
    const T* row(std::size_t i) const { return a.data() + i * cols; }
  };
  struct Attention {
    T rho;
    Dense Q, K, V, Vleft, Vright;
    bool factored = false;
  };
  // out = eta z + g(z). Tabulated (rows of U multiples c_j u of one row u): g is continuous and
  // piecewise linear in t = u.z; piece p lies between breaks[p-1] and breaks[p] (at a breakpoint
  // either piece is right), and there g(z) = value[p] + slope[p] (t - anchor(p)). Otherwise plain:
  // g(z) = W relu(U z + b). missing[p] (Frac only; empty when none): piece p's numbers need more
  // than 127 bits, so a token reaching it takes the GMP path.
  struct FeedForward {
    T eta;
    bool tabulated = false;
    std::vector<T> u, breaks;
    Dense slope, value;  // one row per piece
    std::vector<bool> missing;
    Dense U, W;
    std::vector<T> b;
    // A piece's anchor is a breakpoint at its end (the right end; the last piece's left end), 0
    // when g has one piece: point-slope form keeps the numbers the size of g's values and slopes,
    // where the form slope t + offset carries slope times breakpoint in the offset (for the
    // construction's hats at 10^7 tokens, past 127 bits).
    T anchor(std::size_t p) const { return breaks.empty() ? T{} : breaks[std::min(p, breaks.size() - 1)]; }
  };
  std::vector<std::optional<Attention>> sa;
  std::vector<std::optional<FeedForward>> ff;
  bool causal = false;
  std::size_t last_sa = 0;  // the last block with attention; sa.size() if none
};

namespace {

template <class T>
using Token = std::vector<T>;

// ---- the arithmetic the pass needs beyond + * < ==, for each type ----
Rational over(const Rational& x, long count) { return x / Rational(count); }
Frac over(const Frac& x, long count) { return x.divided_by(count); }
Rational as_rational(const Rational& x) { return x; }
Rational as_rational(const Frac& x) { return x.to_rational(); }
template <class T>
T from_rational(const Rational& q) {
  if constexpr (std::is_same_v<T, Frac>) return Frac::of(q);
  else return q;
}

bool is_int(const Rational& q) { return mpz_cmp_ui(mpq_denref(q.backend().data()), 1) == 0; }

// y <- e y + a b + c. GMP: when every operand is an integer the numerators are combined directly
// (no gcds, no temporaries); an integer mpq is canonical, so the result is the mpq of the formula.
void update(Rational& y, const Rational& e, const Rational& a, const Rational& b, const Rational& c) {
  if (is_int(y) && is_int(e) && is_int(a) && is_int(b) && is_int(c)) {
    mpz_ptr n = mpq_numref(y.backend().data());
    if (mpz_cmp_ui(mpq_numref(e.backend().data()), 1) != 0) mpz_mul(n, n, mpq_numref(e.backend().data()));
    mpz_addmul(n, mpq_numref(a.backend().data()), mpq_numref(b.backend().data()));
    mpz_add(n, n, mpq_numref(c.backend().data()));
    return;
  }
  y = e * y + a * b + c;
}
// Frac: a b + c first, the tabulated g(z), whose parts are small when g's values are; mixed with
// y's denominators only once (e y + a b first can need more bits than the result).
void update(Frac& y, const Frac& e, const Frac& a, const Frac& b, const Frac& c) { y = e * y + (a * b + c); }

template <class T>
T dot(const T* a, const Token<T>& z) {
  T s{};
  for (std::size_t c = 0; c < z.size(); ++c) s += a[c] * z[c];
  return s;
}
template <class T, class Dense>
Token<T> apply(const Dense& m, const Token<T>& x) {
  Token<T> y(m.rows);
  for (std::size_t r = 0; r < m.rows; ++r) y[r] = dot(m.row(r), x);
  return y;
}

// ---- the model's layers as a Net<T> ----

template <class T>
std::vector<T> numbers(const std::vector<Rational>& v) {
  std::vector<T> out;
  out.reserve(v.size());
  for (const auto& x : v) out.push_back(from_rational<T>(x));
  return out;
}
template <class T>
typename StructuredModel::Net<T>::Dense dense(const Matrix& m) {
  return {m.rows, m.cols, numbers<T>(m.a)};
}

// Tabulates ff into f when the rows of U are multiples of one row (false otherwise). Reads the
// model's numbers one at a time (no converted copy of U and W: they are most of a large model).
// Sweep left to right: far left (t -> -inf) a neuron is on iff c_j < 0, or c_j = 0 and b_j > 0; at
// its breakpoint -b_j / c_j a neuron with c_j > 0 switches on, one with c_j < 0 off. g's value at
// the first anchor is summed directly; each next piece's value follows by continuity,
// g(anchor) = g(breakpoint) + slope (anchor - breakpoint), so no sum of offsets is ever formed.
template <class T>
bool tabulate(const FeedForward& ff, typename StructuredModel::Net<T>::FeedForward& f) {
  const std::size_t w = ff.U.rows, d = ff.U.cols, dout = ff.W.rows;
  auto U = [&](std::size_t j, std::size_t c) { return from_rational<T>(ff.U(j, c)); };
  auto W = [&](std::size_t r, std::size_t j) { return from_rational<T>(ff.W(r, j)); };
  std::size_t r0 = w, piv = d;  // first nonzero row and its first nonzero column
  for (std::size_t j = 0; j < w && r0 == w; ++j)
    for (std::size_t c = 0; c < d; ++c)
      if (U(j, c).sign() != 0) {
        r0 = j, piv = c;
        break;
      }
  std::vector<T> u(d), coef(w);  // row j = coef[j] * u
  if (r0 < w) {
    for (std::size_t c = 0; c < d; ++c) u[c] = U(r0, c);
    for (std::size_t j = 0; j < w; ++j) {
      coef[j] = U(j, piv) / U(r0, piv);
      for (std::size_t c = 0; c < d; ++c)
        if (U(j, c) != coef[j] * u[c]) return false;  // not rank one: plain evaluation
    }
  }
  std::vector<T> b = numbers<T>(ff.b);
  // Neuron j's slope W(., j) c_j, neuron by neuron: the sweep visits the neurons in breakpoint
  // order, and reading a column of the row-major W costs a cache miss per entry (seconds at 10^7
  // tokens). Filled in blocks of columns, so that W is read in order too.
  std::vector<T> ws(w * dout);
  for (std::size_t j0 = 0; j0 < w; j0 += 256)
    for (std::size_t r = 0; r < dout; ++r)
      for (std::size_t j = j0; j < std::min(w, j0 + 256); ++j)
        if (coef[j].sign() != 0) ws[j * dout + r] = W(r, j) * coef[j];
  std::vector<std::pair<T, std::size_t>> at;  // (breakpoint, neuron)
  std::vector<T> slope(dout), value(dout);
  auto toggle = [&](std::size_t j, int sign) {
    for (std::size_t r = 0; r < dout; ++r) {
      if (sign > 0) slope[r] += ws[j * dout + r];
      else slope[r] -= ws[j * dout + r];
    }
  };
  for (std::size_t j = 0; j < w; ++j) {
    if (coef[j].sign() != 0) at.push_back({-b[j] / coef[j], j});
    // Active left of its breakpoint. A constant neuron (c_j = 0) has no slope: its value W_j relu(b_j)
    // is in g(first) below.
    if (coef[j].sign() < 0) toggle(j, +1);
  }
  // Neurons with equal breakpoints are toggled together below, in any order (exact sums).
  std::sort(at.begin(), at.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < at.size(); ++i)
    if (i == 0 || !(at[i].first == at[i - 1].first)) f.breaks.push_back(at[i].first);
  const T first = f.anchor(0);
  for (std::size_t j = 0; j < w; ++j) {  // value = g(first) = sum of W_j relu(c_j first + b_j)
    const T pre = coef[j] * first + b[j];
    if (pre.sign() > 0)
      for (std::size_t r = 0; r < dout; ++r) value[r] += W(r, j) * pre;
  }
  f.slope.cols = f.value.cols = dout;
  f.slope.a.reserve((f.breaks.size() + 1) * dout);
  f.value.a.reserve((f.breaks.size() + 1) * dout);
  auto piece = [&] {
    f.slope.a.insert(f.slope.a.end(), slope.begin(), slope.end());
    f.value.a.insert(f.value.a.end(), value.begin(), value.end());
    ++f.slope.rows, ++f.value.rows;
  };
  piece();
  for (std::size_t k = 0, i = 0; k < f.breaks.size(); ++k) {
    const T& beta = f.breaks[k];  // piece k's anchor: value is g(beta)
    for (; i < at.size() && at[i].first == beta; ++i) toggle(at[i].second, coef[at[i].second].sign() > 0 ? +1 : -1);
    const T step = f.anchor(k + 1) - beta;
    for (std::size_t r = 0; r < dout; ++r) value[r] += slope[r] * step;
    piece();
  }
  f.u = std::move(u);
  f.tabulated = true;
  return true;
}

// The machine tabulation of ff: in Frac; when some number of that overflows, in GMP and then
// converted piece by piece, so that only the pieces whose own slope or value needs more than 127
// bits are missing (a token reaching one takes the GMP path). Throws Frac::Overflow when u or a
// breakpoint does not fit (then there is no machine net).
bool tabulate_machine(const FeedForward& ff, StructuredModel::Net<Frac>::FeedForward& f) {
  try {
    return tabulate<Frac>(ff, f);
  } catch (const Frac::Overflow&) {
    f = {};
  }
  StructuredModel::Net<Rational>::FeedForward q;
  if (!tabulate<Rational>(ff, q)) return false;
  f.u = numbers<Frac>(q.u);
  f.breaks = numbers<Frac>(q.breaks);
  const std::size_t pieces = q.slope.rows, dout = q.slope.cols;
  f.slope = {pieces, dout, std::vector<Frac>(pieces * dout)};
  f.value = {pieces, dout, std::vector<Frac>(pieces * dout)};
  f.missing.assign(pieces, false);
  for (std::size_t p = 0; p < pieces; ++p) try {
      for (std::size_t r = 0; r < dout; ++r) {
        f.slope.a[p * dout + r] = Frac::of(q.slope.row(p)[r]);
        f.value.a[p * dout + r] = Frac::of(q.value.row(p)[r]);
      }
    } catch (const Frac::Overflow&) {
      f.missing[p] = true;
    }
  f.tabulated = true;
  return true;
}
template <class T>
bool tabulate_as(const FeedForward& ff, typename StructuredModel::Net<T>::FeedForward& f) {
  if constexpr (std::is_same_v<T, Frac>) return tabulate_machine(ff, f);
  else return tabulate<T>(ff, f);
}

// The model with numbers of type T, its rank-one feed-forward layers tabulated. For T = Frac,
// Frac::Overflow propagates (a number of the model, or a breakpoint, does not fit).
template <class T>
std::unique_ptr<StructuredModel::Net<T>> build_net(const Model& m) {
  using Net = StructuredModel::Net<T>;
  auto net = std::make_unique<Net>();
  net->causal = m.mask == MaskKind::Causal;
  net->sa.resize(m.blocks.size());
  net->ff.resize(m.blocks.size());
  net->last_sa = m.blocks.size();
  for (std::size_t i = 0; i < m.blocks.size(); ++i) {
    const Block& b = m.blocks[i];
    if (b.sa) {
      const SelfAttention& s = *b.sa;
      net->sa[i] = typename Net::Attention{from_rational<T>(s.rho), dense<T>(s.Q), dense<T>(s.K), dense<T>(s.V),
                                           dense<T>(s.Vleft), dense<T>(s.Vright), s.factored};
      net->last_sa = i;
    }
    if (b.ff) {
      typename Net::FeedForward f;
      if (!tabulate_as<T>(*b.ff, f)) {
        f = {};
        f.U = dense<T>(b.ff->U);
        f.W = dense<T>(b.ff->W);
        f.b = numbers<T>(b.ff->b);
      }
      f.eta = from_rational<T>(b.ff->eta);
      net->ff[i] = std::move(f);
    }
  }
  return net;
}

// ---- the pass ----

// Attention; returns the output tokens at positions `out` only (in that order).
template <class T, class Attention>
std::vector<Token<T>> attend(const Attention& sa, const std::vector<Token<T>>& z, bool causal,
                             const std::vector<std::size_t>& out) {
  const std::size_t n = z.size(), d = n ? z[0].size() : 0, h = sa.Q.rows;
  // By linearity the mean of V z_l over a set equals V applied to the mean of the z_l.
  auto value = [&](const Token<T>& sum, long count) {
    Token<T> mean(d);
    for (std::size_t c = 0; c < d; ++c) mean[c] = over(sum[c], count);
    return sa.factored ? apply<T>(sa.Vleft, apply<T>(sa.Vright, mean)) : apply<T>(sa.V, mean);
  };
  auto result = [&](std::size_t i, const Token<T>& v) {
    Token<T> r(d);
    for (std::size_t c = 0; c < d; ++c) r[c] = sa.rho * z[i][c] + v[c];
    return r;
  };
  auto add_to = [&](Token<T>& sum, std::size_t l) {
    for (std::size_t c = 0; c < d; ++c) sum[c] += z[l][c];
  };
  std::vector<Token<T>> res(out.size());
  if (h == 1 && !causal) {
    std::vector<T> key(n);
    for (std::size_t l = 0; l < n; ++l) key[l] = dot(sa.K.row(0), z[l]);
    T hi = n ? *std::max_element(key.begin(), key.end()) : T{}, lo = n ? *std::min_element(key.begin(), key.end()) : T{};
    std::optional<Token<T>> values[3];  // for q.z_i < 0, = 0, > 0: computed when first needed
    for (std::size_t k = 0; k < out.size(); ++k) {
      const std::size_t i = out[k];
      const int sign = dot(sa.Q.row(0), z[i]).sign();
      auto& v = values[sign + 1];
      if (!v) {
        Token<T> sum(d);
        long count = 0;
        for (std::size_t l = 0; l < n; ++l)
          if (sign == 0 || key[l] == (sign > 0 ? hi : lo)) add_to(sum, l), ++count;
        v = value(sum, count);
      }
      res[k] = result(i, *v);
    }
  } else if (h == 1) {
    // Causal, one head: query i sees the prefix 0 ... i, so the attended sets are the prefix's
    // argmax, argmin or all of it; kept as running (key, count, sum) while i grows, up to the
    // last asked position.
    struct Set {
      T key{};
      long count = 0;
      Token<T> sum;
    };
    Set hi, lo, all;
    hi.sum = lo.sum = all.sum = Token<T>(d);
    std::vector<std::size_t> order(out.size());  // indices into out, by position
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return out[a] < out[b]; });
    for (std::size_t i = 0, next = 0; next < order.size(); ++i) {
      const T key = dot(sa.K.row(0), z[i]);
      auto include = [&](Set& s, bool better) {
        if (s.count == 0 || better) s.key = key, s.count = 0, s.sum = Token<T>(d);
        else if (!(key == s.key)) return;
        ++s.count;
        add_to(s.sum, i);
      };
      include(hi, hi.count > 0 && key > hi.key);
      include(lo, lo.count > 0 && key < lo.key);
      ++all.count;
      add_to(all.sum, i);
      if (out[order[next]] != i) continue;
      const int sign = dot(sa.Q.row(0), z[i]).sign();
      const Set& s = sign > 0 ? hi : sign < 0 ? lo : all;
      const Token<T> r = result(i, value(s.sum, s.count));
      for (; next < order.size() && out[order[next]] == i; ++next) res[order[next]] = r;
    }
  } else {
    // Several heads: the plain definition, C_i = argmax_l <Q z_i, K z_l> over l (l <= i if causal).
    std::vector<Token<T>> kz(n);
    for (std::size_t l = 0; l < n; ++l) kz[l] = apply<T>(sa.K, z[l]);
    for (std::size_t k = 0; k < out.size(); ++k) {
      const std::size_t i = out[k], seen = causal ? i + 1 : n;
      const Token<T> qz = apply<T>(sa.Q, z[i]);
      std::vector<T> score(seen);
      for (std::size_t l = 0; l < seen; ++l) score[l] = dot(qz.data(), kz[l]);
      const T top = *std::max_element(score.begin(), score.end());
      Token<T> sum(d);
      long count = 0;
      for (std::size_t l = 0; l < seen; ++l)
        if (score[l] == top) add_to(sum, l), ++count;
      res[k] = result(i, value(sum, count));
    }
  }
  return res;
}

template <class T, class FeedForward>
void feed_forward(const FeedForward& ff, Token<T>& t) {
  if (ff.tabulated) {
    const T s = dot(ff.u.data(), t);
    const auto p = static_cast<std::size_t>(std::lower_bound(ff.breaks.begin(), ff.breaks.end(), s) - ff.breaks.begin());
    if (!ff.missing.empty() && ff.missing[p]) throw Frac::Overflow{};  // only a Frac net has missing pieces
    const T step = s - ff.anchor(p);
    for (std::size_t c = 0; c < t.size(); ++c) update(t[c], ff.eta, ff.slope.row(p)[c], step, ff.value.row(p)[c]);
    return;
  }
  Token<T> out(t.size());
  for (std::size_t c = 0; c < t.size(); ++c) out[c] = ff.eta * t[c];
  for (std::size_t j = 0; j < ff.U.rows; ++j) {
    const T pre = ff.b[j] + dot(ff.U.row(j), t);
    if (pre.sign() <= 0) continue;
    for (std::size_t c = 0; c < t.size(); ++c) out[c] += ff.W.row(c)[j] * pre;
  }
  t = std::move(out);
}

// The output tokens at `out`. All tokens go through the blocks up to the last attention layer,
// which computes the outputs at `out` only; later layers act on each token alone.
template <class T>
std::vector<Vec> pass(const StructuredModel::Net<T>& net, const Tokens& x, const std::vector<std::size_t>& out) {
  std::vector<Token<T>> z(x.size(), Token<T>(x.dim()));
  x.visit_rows([&](const auto* data) {
    for (std::size_t i = 0; i < x.size(); ++i)
      for (std::size_t c = 0; c < x.dim(); ++c) {
        const auto& v = data[i * x.dim() + c];
        if constexpr (std::is_integral_v<std::remove_cvref_t<decltype(v)>>) z[i][c] = T(static_cast<std::int64_t>(v));
        else z[i][c] = from_rational<T>(v);
      }
  });
  std::vector<std::size_t> every(x.size());
  std::iota(every.begin(), every.end(), std::size_t{0});
  if (net.last_sa == net.sa.size()) {  // no attention: keep the asked tokens only
    std::vector<Token<T>> kept;
    for (std::size_t i : out) kept.push_back(z[i]);
    z = std::move(kept);
  }
  for (std::size_t b = 0; b < net.sa.size(); ++b) {
    if (net.sa[b]) z = attend<T>(*net.sa[b], z, net.causal, b == net.last_sa ? out : every);
    if (net.ff[b])
      for (auto& t : z) feed_forward<T>(*net.ff[b], t);
  }
  std::vector<Vec> result(z.size(), Vec(x.dim()));
  for (std::size_t k = 0; k < z.size(); ++k)
    for (std::size_t c = 0; c < x.dim(); ++c) result[k][c] = as_rational(z[k][c]);
  return result;
}

}  // namespace

StructuredModel::StructuredModel(const Model& m) : m_(m) {
  try {
    machine_ = build_net<Frac>(m);
  } catch (const Frac::Overflow&) {
    machine_ = nullptr;  // a number of the model needs more than 127 bits: GMP throughout
  }
}

StructuredModel::~StructuredModel() = default;

std::size_t StructuredModel::machine_pieces_missing() const {
  std::size_t n = 0;
  if (machine_)
    for (const auto& f : machine_->ff)
      if (f) n += static_cast<std::size_t>(std::count(f->missing.begin(), f->missing.end(), true));
  return n;
}

std::optional<std::vector<Vec>> StructuredModel::forward_machine(const Tokens& x,
                                                                 const std::vector<std::size_t>& positions) const {
  if (!machine_) return std::nullopt;
  try {
    return pass(*machine_, x, positions);
  } catch (const Frac::Overflow&) {
    return std::nullopt;
  }
}

std::vector<Vec> StructuredModel::forward_gmp(const Tokens& x, const std::vector<std::size_t>& positions) const {
  // Built on first use: with a machine path and no sequence outgrowing it, never.
  std::call_once(exact_once_, [&] { exact_ = build_net<Rational>(m_); });
  return pass(*exact_, x, positions);
}

std::vector<Vec> StructuredModel::forward(const Tokens& x, const std::vector<std::size_t>& positions) const {
  if (auto out = forward_machine(x, positions)) return std::move(*out);
  return forward_gmp(x, positions);
}

std::vector<Vec> StructuredModel::forward(const std::vector<Vec>& z) const {
  std::vector<std::size_t> every(z.size());
  std::iota(every.begin(), every.end(), std::size_t{0});
  return forward(Tokens(z), every);
}

}  // namespace interpcert::checker
