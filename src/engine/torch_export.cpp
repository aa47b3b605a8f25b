#include "interpcert/torch_state.hpp"

#include "interpcert/certificate.hpp"
#include "interpcert/errors.hpp"

#include <gmp.h>

#include <algorithm>

namespace interpcert {
namespace {

const char* dtype_name(FloatEncoding f) {
  if (f.exp_bits == kEncodingF64.exp_bits && f.frac_bits == kEncodingF64.frac_bits) return "F64";
  if (f.exp_bits == kEncodingF32.exp_bits && f.frac_bits == kEncodingF32.frac_bits) return "F32";
  if (f.exp_bits == kEncodingF16.exp_bits && f.frac_bits == kEncodingF16.frac_bits) return "F16";
  return "BF16";
}

// Rounds each weight to the nearest float and records the worst relative error.
class TensorWriter {
 public:
  TensorWriter(FloatEncoding f, TorchExportReport& r, const std::string& file) : f_(f), report_(r), file_(file) {}

  void add(const std::string& name, std::vector<std::uint64_t> shape, const std::vector<Rational>& values) {
    SafeTensorOut t{name, dtype_name(f_), std::move(shape), {}};
    t.bytes.reserve(values.size() * static_cast<std::size_t>(f_.bytes()));
    for (const Rational& q : values) {
      auto bits = float_round_nearest(q, f_);
      if (!bits)
        throw InputError(file_, "", "tensor " + name + ": the weight " + rational_short(q) + " overflows " +
                                        t.dtype + " (beyond the largest finite float)");
      Rational back = *float_decode(*bits, f_);
      ++report_.weights;
      if (back != q) {
        ++report_.rounded;
        Rational rel = float_relative_error(q, back);
        if (rel > report_.max_relative_error) {
          report_.max_relative_error = rel;
          report_.worst_tensor = name;
        }
      }
      for (int i = 0; i < f_.bytes(); ++i) t.bytes += static_cast<char>((*bits >> (8 * i)) & 0xff);
    }
    tensors.push_back(std::move(t));
  }

  std::vector<SafeTensorOut> tensors;

 private:
  FloatEncoding f_;
  TorchExportReport& report_;
  const std::string& file_;
};

// Rows of m, padded with zero rows to `rows` (and zero columns to `cols`).
std::vector<Rational> padded(const Matrix& m, std::size_t rows, std::size_t cols) {
  std::vector<Rational> v(rows * cols);
  for (std::size_t i = 0; i < m.rows; ++i)
    for (std::size_t j = 0; j < m.cols; ++j) v[i * cols + j] = m(i, j);
  return v;
}

// The largest k with 0 < x <= 2^-k (an upper bound on x a reader can take in at a glance). Exact.
long upper_exponent(const Rational& x) {
  const Integer n = numerator(x), d = denominator(x);
  auto bits = [](const Integer& z) { return static_cast<long>(mpz_sizeinbase(z.backend().data(), 2)); };
  auto at_most = [&](long k) {  // n / d <= 2^-k
    Integer l = n, r = d;
    if (k >= 0) mpz_mul_2exp(l.backend().data(), l.backend().data(), static_cast<mp_bitcnt_t>(k));
    else mpz_mul_2exp(r.backend().data(), r.backend().data(), static_cast<mp_bitcnt_t>(-k));
    return l <= r;
  };
  long k = bits(d) - bits(n) + 1;  // n / d < 2^(bits(n) - bits(d) + 1), so k is at most this
  while (!at_most(k)) --k;
  return k;
}

std::string join(const std::vector<std::size_t>& xs) {
  std::string s;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(xs[i]);
  }
  return s;
}

}  // namespace

std::string model_to_safetensors(const Model& m, const TorchExportOptions& opt, TorchExportReport& report,
                                 const std::string& model_file) {
  report = TorchExportReport{};
  const std::size_t d = m.d;
  std::vector<std::size_t> heads, widths;
  for (const Block& b : m.blocks) {
    heads.push_back(b.sa ? b.sa->Q.rows : 0);
    widths.push_back(b.ff ? b.ff->U.rows : 0);
  }
  std::size_t H = std::max<std::size_t>(1, opt.min_heads), W = std::max<std::size_t>(1, opt.min_width);
  for (std::size_t l = 0; l < m.blocks.size(); ++l) H = std::max(H, heads[l]), W = std::max(W, widths[l]);
  if (opt.uniform) report.heads = H, report.width = W;

  Model dense = m;  // what an exact import gives back: V multiplied out
  TensorWriter out(opt.format, report, model_file);
  for (std::size_t l = 0; l < m.blocks.size(); ++l) {
    const Block& b = m.blocks[l];
    const std::string p = "blocks." + std::to_string(l) + ".";
    const std::size_t h = opt.uniform ? H : std::max<std::size_t>(1, heads[l]);
    const std::size_t w = opt.uniform ? W : std::max<std::size_t>(1, widths[l]);
    // An identity layer is its equivalent: rho = 1 with zero Q, K, V; eta = 1 with zero weights.
    Matrix Q(0, d), K(0, d), V(d, d), U(0, d), Wff(d, 0), bias(0, 1);
    Rational rho = 1, eta = 1;
    if (b.sa) {
      rho = b.sa->rho;
      Q = b.sa->Q;
      K = b.sa->K;
      V = b.sa->value_matrix();
      auto& sa = *dense.blocks[l].sa;
      sa.factored = false;
      sa.V = V;
      sa.Vleft = sa.Vright = Matrix();
    }
    if (b.ff) {
      eta = b.ff->eta;
      U = b.ff->U;
      Wff = b.ff->W;
      bias = Matrix(b.ff->b.size(), 1);
      for (std::size_t j = 0; j < b.ff->b.size(); ++j) bias(j, 0) = b.ff->b[j];
    }
    out.add(p + "rho", {1}, {rho});
    out.add(p + "eta", {1}, {eta});
    out.add(p + "attn.to_q.weight", {h, d}, padded(Q, h, d));
    out.add(p + "attn.to_k.weight", {h, d}, padded(K, h, d));
    out.add(p + "attn.to_v.weight", {d, d}, padded(V, d, d));
    out.add(p + "ff.0.weight", {w, d}, padded(U, w, d));
    out.add(p + "ff.0.bias", {w}, padded(bias, w, 1));
    out.add(p + "ff.2.weight", {d, w}, padded(Wff, d, w));
  }
  if (report.rounded) report.error_exponent = upper_exponent(report.max_relative_error);
  std::map<std::string, std::string> meta{
      {"interpcert", "1"},
      {"producer", std::string("interpcert ") + kProducerVersion},
      {"d", std::to_string(d)},
      {"attention", m.attention == AttentionKind::Hardmax ? "hardmax" : "softmax"},
      {"blocks", std::to_string(m.blocks.size())},
      {"heads", join(heads)},
      {"ff_widths", join(widths)},
      {"model_digest", model_digest(m)},
      {"dense_digest", model_digest(dense)},
      {"dtype", dtype_name(opt.format)},
      {"rounding", report.rounded ? "nearest: " + std::to_string(report.rounded) + " of " +
                                        std::to_string(report.weights) +
                                        " weights rounded to nearest, max relative error <= 2^-" +
                                        std::to_string(report.error_exponent)
                                  : "exact: every weight is representable"},
  };
  if (m.beta) meta["beta"] = rational_to_string(*m.beta);
  // Only for causal models, so that every unmasked export stays byte-identical to before the mask.
  if (m.mask == MaskKind::Causal) meta["mask"] = "causal";
  return safetensors_write(out.tensors, meta);
}

}  // namespace interpcert
