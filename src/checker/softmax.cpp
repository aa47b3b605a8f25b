#include "softmax.hpp"

#include "workers.hpp"

#include <mpfi.h>

#include <atomic>
#include <mutex>
#include <vector>

namespace interpcert::checker {
namespace {

// An MPFI interval with value semantics at a fixed precision.
struct Iv {
  mpfi_t v;
  explicit Iv(long prec) { mpfi_init2(v, prec); }
  Iv(const Iv& o) {
    mpfi_init2(v, mpfi_get_prec(o.v));
    mpfi_set(v, o.v);
  }
  Iv& operator=(const Iv& o) {
    mpfi_set(v, o.v);
    return *this;
  }
  ~Iv() { mpfi_clear(v); }
};
using IvVec = std::vector<Iv>;

IvVec of(const Vec& x, long prec) {
  IvVec out(x.size(), Iv(prec));
  for (std::size_t i = 0; i < x.size(); ++i) mpfi_set_q(out[i].v, x[i].backend().data());  // encloses x exactly
  return out;
}

// y = M x with M exact: every product and sum rounded outward by MPFI.
IvVec mul(const Matrix& M, const IvVec& x, long prec) {
  IvVec y(M.rows, Iv(prec));
  Iv t(prec), m(prec);
  for (std::size_t i = 0; i < M.rows; ++i) {
    mpfi_set_ui(y[i].v, 0);
    for (std::size_t j = 0; j < M.cols; ++j) {
      if (M(i, j) == 0) continue;
      mpfi_set_q(m.v, M(i, j).backend().data());
      mpfi_mul(t.v, m.v, x[j].v);
      mpfi_add(y[i].v, y[i].v, t.v);
    }
  }
  return y;
}

IvVec value(const SelfAttention& sa, const IvVec& x, long prec) {
  return sa.factored ? mul(sa.Vleft, mul(sa.Vright, x, prec), prec) : mul(sa.V, x, prec);
}

// Softmax attention: out_i = rho z_i + V z_p + sum_{l != p} a_il (V z_l - V z_p), with p the token
// of largest midpoint score and a_il = E_l / (1 + sum_{r != p} E_r), E_l = exp(beta (s_il - s_ip)):
// the same real number as sum_l a_il V z_l because the weights sum to 1.
// causal: query i sees l <= i only.
std::vector<IvVec> attention(const SelfAttention& sa, const Rational& beta_q, const std::vector<IvVec>& z, long prec,
                             bool causal) {
  const std::size_t n = z.size(), d = z[0].size();
  std::vector<IvVec> q(n), k(n), vz(n), out(n);
  for (std::size_t l = 0; l < n; ++l) {
    q[l] = mul(sa.Q, z[l], prec);
    k[l] = mul(sa.K, z[l], prec);
    vz[l] = value(sa, z[l], prec);
  }
  Iv beta(prec), rho(prec), t(prec), sum(prec), a(prec);
  mpfi_set_q(beta.v, beta_q.backend().data());
  mpfi_set_q(rho.v, sa.rho.backend().data());
  IvVec s(n, Iv(prec)), e(n, Iv(prec));
  mpfr_t mid, best;
  mpfr_init2(mid, prec);
  mpfr_init2(best, prec);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t p = 0;
    const std::size_t seen = causal ? i + 1 : n;
    for (std::size_t l = 0; l < seen; ++l) {
      mpfi_set_ui(s[l].v, 0);
      for (std::size_t r = 0; r < q[i].size(); ++r) {
        mpfi_mul(t.v, q[i][r].v, k[l][r].v);
        mpfi_add(s[l].v, s[l].v, t.v);
      }
      mpfi_mid(mid, s[l].v);
      if (l == 0 || mpfr_cmp(mid, best) > 0) p = l, mpfr_set(best, mid, MPFR_RNDN);
    }
    mpfi_set_ui(sum.v, 1);
    for (std::size_t l = 0; l < seen; ++l) {
      if (l == p) continue;
      mpfi_sub(t.v, s[l].v, s[p].v);
      mpfi_mul(t.v, t.v, beta.v);
      mpfi_exp(e[l].v, t.v);
      mpfi_add(sum.v, sum.v, e[l].v);
    }
    out[i] = IvVec(d, Iv(prec));
    for (std::size_t c = 0; c < d; ++c) {
      mpfi_mul(out[i][c].v, rho.v, z[i][c].v);
      mpfi_add(out[i][c].v, out[i][c].v, vz[p][c].v);
    }
    for (std::size_t l = 0; l < seen; ++l) {
      if (l == p) continue;
      mpfi_div(a.v, e[l].v, sum.v);
      for (std::size_t c = 0; c < d; ++c) {
        mpfi_sub(t.v, vz[l][c].v, vz[p][c].v);
        mpfi_mul(t.v, t.v, a.v);
        mpfi_add(out[i][c].v, out[i][c].v, t.v);
      }
    }
  }
  mpfr_clear(mid);
  mpfr_clear(best);
  return out;
}

}  // namespace

// relu over an interval: [0, 0] if it is <= 0, itself if >= 0, else [0, right]. A NaN endpoint
// means nothing is known (mpfr_sgn would call it 0): the result stays NaN, so the final bound is
// reported as unbounded instead of being clamped to 0.
void interval_relu(mpfi_ptr h, long prec) {
  if (mpfi_nan_p(h)) return;
  mpfr_t lo, hi;
  mpfr_inits2(prec, lo, hi, static_cast<mpfr_ptr>(nullptr));
  mpfi_get_left(lo, h);
  mpfi_get_right(hi, h);
  if (mpfr_sgn(hi) <= 0) {
    mpfi_set_ui(h, 0);
  } else if (mpfr_sgn(lo) < 0) {
    mpfr_set_ui(lo, 0, MPFR_RNDD);
    mpfi_interv_fr(h, lo, hi);
  }
  mpfr_clears(lo, hi, static_cast<mpfr_ptr>(nullptr));
}

namespace {

void feed_forward(const FeedForward& ff, IvVec& z, long prec) {
  IvVec h = mul(ff.U, z, prec);
  Iv b(prec);
  for (std::size_t j = 0; j < h.size(); ++j) {
    mpfi_set_q(b.v, ff.b[j].backend().data());
    mpfi_add(h[j].v, h[j].v, b.v);
    interval_relu(h[j].v, prec);
  }
  IvVec out = mul(ff.W, h, prec);
  Iv eta(prec), t(prec);
  mpfi_set_q(eta.v, ff.eta.backend().data());
  for (std::size_t c = 0; c < z.size(); ++c) {
    mpfi_mul(t.v, eta.v, z[c].v);
    mpfi_add(out[c].v, out[c].v, t.v);
  }
  z = std::move(out);
}

// Encloses the tokens of one sequence after the first `blocks` blocks.
std::vector<IvVec> run(const Model& m, const Sequence& s, std::size_t blocks, long prec) {
  std::vector<IvVec> z;
  for (const auto& x : s.input) z.push_back(of(x, prec));
  for (std::size_t b = 0; b < blocks; ++b) {
    if (m.blocks[b].sa) z = attention(*m.blocks[b].sa, *m.beta, z, prec, m.mask == MaskKind::Causal);
    if (m.blocks[b].ff)
      for (auto& t : z) feed_forward(*m.blocks[b].ff, t, prec);
  }
  return z;
}


}  // namespace

Rational bound_from_magnitude(mpfr_srcptr mag, bool& finite) {
  finite = true;
  if (!mpfr_number_p(mag)) {
    finite = false;
    return Rational(0);
  }
  if (mpfr_zero_p(mag)) return Rational(0);
  // mag = m 2^e with 1/2 <= |m| < 1: mpfr_get_q would need 2^|e|, beyond GMP for |e| near 2^62.
  long e = mpfr_get_exp(mag);
  if (e > kBoundExponentLimit) {
    finite = false;
    return Rational(0);
  }
  if (e < -kBoundExponentLimit) {
    Integer p;
    mpz_ui_pow_ui(p.backend().data(), 2, static_cast<unsigned long>(kBoundExponentLimit));
    return Rational(Integer(1), p);  // mag < 2^e <= 2^-kBoundExponentLimit
  }
  Rational r;
  mpfr_get_q(r.backend().data(), mag);  // exact: a binary floating-point number of moderate exponent
  return r;
}

std::size_t softmax_exact_failures(const Model& m, const Dataset& ds, long prec, unsigned threads, std::size_t shard,
                                   std::size_t shards, std::string& first, std::size_t* checked) {
  std::size_t outputs = 0;
  for (std::size_t j = shard; j < ds.sequences.size(); j += shards) outputs += ds.sequences[j].output.size();
  if (m.blocks.empty() || m.blocks.back().sa || !m.blocks.back().ff || m.blocks.back().ff->eta != 0) {
    first = "the model does not end in one feed-forward layer with eta = 0";
    return outputs;
  }
  const FeedForward& last = *m.blocks.back().ff;
  std::vector<std::size_t> mine;
  for (std::size_t j = shard; j < ds.sequences.size(); j += shards) mine.push_back(j);
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::size_t failures = 0, first_at = SIZE_MAX;
  std::atomic<std::size_t> done{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < mine.size();) {
      const Sequence& s = ds.sequences[mine[i]];
      done += s.output.size();
      std::vector<IvVec> z = run(m, s, m.blocks.size() - 1, prec);
      for (std::size_t k = 0; k < s.output.size(); ++k) {
        IvVec h = mul(last.U, z[s.positions[k]], prec);
        Iv b(prec);
        std::vector<bool> active(h.size());
        std::string why;
        for (std::size_t j = 0; j < h.size() && why.empty(); ++j) {
          mpfi_set_q(b.v, last.b[j].backend().data());
          mpfi_add(h[j].v, h[j].v, b.v);
          if (mpfi_is_strictly_pos(h[j].v)) active[j] = true;
          else if (mpfi_is_nonpos(h[j].v)) active[j] = false;
          else why = "neuron " + std::to_string(j) + " of the last layer has no known sign";
        }
        if (why.empty()) {
          // Output = sum over active j of W_j (U_j z + b_j): constant iff sum W_j U_j = 0.
          for (std::size_t r = 0; r < last.W.rows && why.empty(); ++r) {
            for (std::size_t c = 0; c < last.U.cols && why.empty(); ++c) {
              Rational lin;
              for (std::size_t j = 0; j < active.size(); ++j)
                if (active[j]) lin += last.W(r, j) * last.U(j, c);
              if (lin != 0) why = "the selected affine map is not constant";
            }
            Rational value;
            for (std::size_t j = 0; j < active.size(); ++j)
              if (active[j]) value += last.W(r, j) * last.b[j];
            if (why.empty() && value != s.output[k][r]) why = "the constant output differs from the target";
          }
        }
        if (why.empty()) continue;
        std::lock_guard<std::mutex> g(mu);
        ++failures;
        if (mine[i] < first_at) {
          first_at = mine[i];
          first = "sequence " + std::to_string(mine[i]) + ", position " + std::to_string(s.positions[k]) + ": " + why;
        }
      }
    }
  };
  run_workers(threads, work);  // each worker widens its own MPFR exponent range
  if (checked) *checked = done;
  return failures;
}

Rational softmax_error_bound(const Model& m, const Dataset& ds, long prec, unsigned threads, std::size_t shard,
                             std::size_t shards, bool& finite, std::size_t* checked) {
  std::vector<std::size_t> mine;
  for (std::size_t j = shard; j < ds.sequences.size(); j += shards) mine.push_back(j);
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  Rational worst(0);
  finite = true;
  std::atomic<std::size_t> done{0};
  auto work = [&] {
    mpfr_t mag;
    mpfr_init2(mag, prec);
    for (std::size_t i; (i = next++) < mine.size();) {
      const Sequence& s = ds.sequences[mine[i]];
      done += s.output.size();
      std::vector<IvVec> z = run(m, s, m.blocks.size(), prec);
      Iv diff(prec), target(prec);
      for (std::size_t k = 0; k < s.output.size(); ++k)
        for (std::size_t c = 0; c < ds.d; ++c) {
          mpfi_set_q(target.v, s.output[k][c].backend().data());
          mpfi_sub(diff.v, z[s.positions[k]][c].v, target.v);
          mpfi_mag(mag, diff.v);  // max |endpoint|, rounded up
          std::lock_guard<std::mutex> g(mu);
          if (!mpfr_number_p(mag) || mpfi_nan_p(diff.v)) {
            finite = false;
            continue;
          }
          bool ok = true;
          Rational r = bound_from_magnitude(mag, ok);
          if (!ok) {
            finite = false;
            continue;
          }
          if (r > worst) worst = r;
        }
    }
    mpfr_clear(mag);
  };
  run_workers(threads, work);  // each worker widens its own MPFR exponent range
  if (checked) *checked = done;
  return worst;
}

}  // namespace interpcert::checker
