#include "interpcert/torch_state.hpp"

#include "interpcert/errors.hpp"
#include "interpcert/json_reader.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace interpcert {
namespace {

const char* const kSuffixes[] = {"rho", "eta", "attn.to_q.weight", "attn.to_k.weight", "attn.to_v.weight",
                                 "ff.0.weight", "ff.0.bias", "ff.2.weight"};

std::optional<FloatEncoding> float_format(std::string_view dtype) {
  if (dtype == "F64") return kEncodingF64;
  if (dtype == "F32") return kEncodingF32;
  if (dtype == "F16") return kEncodingF16;
  if (dtype == "BF16") return kEncodingBF16;
  return std::nullopt;
}

std::optional<std::size_t> parse_index(std::string_view s) {
  std::size_t v = 0;
  if (s.empty() || (s.size() > 1 && s[0] == '0') || s.size() > 9) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

class Reader {
 public:
  Reader(const SafeTensorsFile& f, TorchImportReport& r) : f_(f), report_(r) {}

  [[noreturn]] void fail_tensor(const std::string& name, const std::string& msg) const {
    throw InputError(f_.file, "/" + json_pointer_escape(name), "tensor \"" + name + "\": " + msg);
  }
  [[noreturn]] void fail_meta(const std::string& key, const std::string& msg) const {
    throw InputError(f_.file, "/__metadata__/" + json_pointer_escape(key), msg);
  }

  const SafeTensor& tensor(const std::string& name) const {
    auto it = f_.tensors.find(name);
    if (it == f_.tensors.end()) throw InputError(f_.file, "", "missing tensor \"" + name + "\"");
    return it->second;
  }

  /// The exact values of a tensor of the given shape (0 in `shape` = any size), row-major.
  std::vector<Rational> values(const std::string& name, std::vector<std::size_t> shape) {
    const SafeTensor& t = tensor(name);
    auto fmt = float_format(t.dtype);
    if (!fmt) fail_tensor(name, "dtype " + t.dtype + " is not a float type (F64, F32, F16, BF16)");
    bool scalar_ok = shape.size() == 1 && shape[0] == 1 && t.shape.empty();  // rho/eta as a 0-d tensor
    bool ok = scalar_ok || t.shape.size() == shape.size();
    for (std::size_t i = 0; ok && !scalar_ok && i < shape.size(); ++i)
      ok = shape[i] == 0 ? t.shape[i] > 0 : t.shape[i] == shape[i];
    if (!ok) fail_tensor(name, "shape " + shape_text(t.shape) + ", expected " + expected_text(shape));
    ++report_.dtypes[t.dtype];
    std::string_view bytes = f_.data(t);
    const std::size_t size = static_cast<std::size_t>(fmt->bytes());
    std::vector<Rational> out;
    out.reserve(bytes.size() / size);
    for (std::size_t i = 0; i < bytes.size(); i += size) {
      std::uint64_t bits = 0;
      for (std::size_t k = size; k-- > 0;) bits = (bits << 8) | static_cast<unsigned char>(bytes[i + k]);
      auto q = float_decode(bits, *fmt);
      if (!q) fail_tensor(name, "element " + std::to_string(i / size) + " is a NaN or an infinity");
      out.push_back(std::move(*q));
    }
    return out;
  }

  std::optional<std::string> meta(const std::string& key) const {
    auto it = f_.metadata.find(key);
    if (it == f_.metadata.end()) return std::nullopt;
    return it->second;
  }

  std::size_t meta_count(const std::string& key, std::size_t lo, std::size_t hi) const {
    auto v = parse_index(*meta(key));
    if (!v || *v < lo || *v > hi) fail_meta(key, "expected an integer in [" + std::to_string(lo) + ", " +
                                                     std::to_string(hi) + "], got \"" + *meta(key) + "\"");
    return *v;
  }

  std::optional<std::vector<std::size_t>> meta_list(const std::string& key, std::size_t n) const {
    auto s = meta(key);
    if (!s) return std::nullopt;
    std::vector<std::size_t> xs;
    std::size_t at = 0;
    while (!s->empty()) {
      std::size_t comma = s->find(',', at);
      auto v = parse_index(std::string_view(*s).substr(at, comma == std::string::npos ? std::string::npos : comma - at));
      if (!v) fail_meta(key, "expected comma-separated integers, got \"" + *s + "\"");
      xs.push_back(*v);
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
    if (xs.size() != n)
      fail_meta(key, "lists " + std::to_string(xs.size()) + " blocks, but the file has " + std::to_string(n));
    return xs;
  }

 private:
  static std::string shape_text(const std::vector<std::uint64_t>& s) {
    std::string t = "[";
    for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
    return t + "]";
  }
  static std::string expected_text(const std::vector<std::size_t>& s) {
    std::string t = "[";
    for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + (s[i] ? std::to_string(s[i]) : std::string(">= 1"));
    return t + "]";
  }
  const SafeTensorsFile& f_;
  TorchImportReport& report_;
};

Matrix matrix(std::vector<Rational> v, std::size_t rows, std::size_t cols) {
  Matrix m(rows, cols);
  m.a = std::move(v);
  return m;
}

bool all_zero(const std::vector<Rational>& v) {
  return std::all_of(v.begin(), v.end(), [](const Rational& q) { return q == 0; });
}

// Keeps the first `keep` rows of m when the rest are zero; says whether it did.
bool trim_rows(Matrix& m, std::size_t keep) {
  for (std::size_t i = keep * m.cols; i < m.a.size(); ++i)
    if (m.a[i] != 0) return false;
  m.a.resize(keep * m.cols);
  m.rows = keep;
  return true;
}

}  // namespace

Model model_from_safetensors(const SafeTensorsFile& f, const TorchImportOptions& opt, TorchImportReport& report) {
  report = TorchImportReport{};
  Reader r(f, report);
  // Which blocks: every tensor must be blocks.{l}.<one of the names above>.
  std::size_t L = 0;
  for (auto& [name, t] : f.tensors) {
    bool known = false;
    if (name.rfind("blocks.", 0) == 0) {
      std::size_t dot = name.find('.', 7);
      auto l = dot == std::string::npos ? std::nullopt : parse_index(std::string_view(name).substr(7, dot - 7));
      std::string suffix = dot == std::string::npos ? "" : name.substr(dot + 1);
      if (l && std::any_of(std::begin(kSuffixes), std::end(kSuffixes), [&](const char* s) { return suffix == s; })) {
        known = true;
        L = std::max(L, *l + 1);
      }
    }
    if (!known)
      r.fail_tensor(name, "unexpected tensor (expected blocks.{l}.rho, .eta, .attn.to_q.weight, .attn.to_k.weight, "
                          ".attn.to_v.weight, .ff.0.weight, .ff.0.bias, .ff.2.weight)");
  }
  if (r.meta("blocks")) {
    std::size_t declared = r.meta_count("blocks", 0, 1u << 30);
    if (declared != L) r.fail_meta("blocks", "says " + std::to_string(declared) + " blocks, the tensors have " + std::to_string(L));
  }
  Model m;
  if (r.meta("d")) {
    m.d = r.meta_count("d", 1, 1u << 20);
  } else if (L > 0) {
    const SafeTensor& v = r.tensor("blocks.0.attn.to_v.weight");
    if (v.shape.empty() || v.shape[0] == 0 || v.shape[0] > (1u << 20))
      r.fail_tensor(v.name, "cannot infer d from its shape");
    m.d = static_cast<std::size_t>(v.shape[0]);
  } else {
    throw InputError(f.file, "", "no blocks and no metadata \"d\": nothing to import");
  }

  // Attention: from the metadata when present, else from the command line; never both disagreeing.
  std::optional<AttentionKind> meta_att;
  std::optional<Rational> meta_beta;
  if (auto a = r.meta("attention")) {
    if (*a == "hardmax") meta_att = AttentionKind::Hardmax;
    else if (*a == "softmax") meta_att = AttentionKind::Softmax;
    else r.fail_meta("attention", "expected \"hardmax\" or \"softmax\", got \"" + *a + "\"");
  }
  if (auto b = r.meta("beta")) {
    std::string why;
    meta_beta = rational_parse(*b, &why);
    if (!meta_beta || *meta_beta <= 0) r.fail_meta("beta", "expected an exact rational > 0, got \"" + *b + "\"");
    if (meta_att && *meta_att == AttentionKind::Hardmax) r.fail_meta("beta", "beta given for hardmax attention");
    meta_att = AttentionKind::Softmax;
  }
  if (meta_att == AttentionKind::Softmax && !meta_beta) r.fail_meta("attention", "softmax without \"beta\"");
  if (meta_att) {
    if (opt.attention && (*opt.attention != *meta_att || (meta_beta && opt.beta && *opt.beta != *meta_beta)))
      throw InputError(f.file, "/__metadata__", "the file says attention " +
                                                    std::string(*meta_att == AttentionKind::Hardmax ? "hardmax" : "softmax") +
                                                    (meta_beta ? " with beta = " + rational_to_string(*meta_beta) : "") +
                                                    "; the command line says otherwise (omit the flag to use the file's)");
    m.attention = *meta_att;
    m.beta = meta_beta;
    report.attention_from = "metadata";
  } else {
    if (!opt.attention)
      throw InputError(f.file, "/__metadata__", "no \"attention\" in the metadata: give --hardmax, --beta B or --tau T");
    m.attention = *opt.attention;
    m.beta = opt.beta;
    report.attention_from = "command line";
  }
  if (auto mask = r.meta("mask"); mask && *mask != "none") {
    // Never drop or guess a mask: the model would compute something else.
    if (*mask != "causal") r.fail_meta("mask", "expected \"none\" or \"causal\", got \"" + *mask + "\"");
    m.mask = MaskKind::Causal;
  }
  if (auto dd = r.meta("dense_digest")) report.exported_digest = *dd;

  auto heads = r.meta_list("heads", L);
  auto widths = r.meta_list("ff_widths", L);
  const std::size_t d = m.d;
  m.blocks.resize(L);
  for (std::size_t l = 0; l < L; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    Rational rho = r.values(p + "rho", {1})[0], eta = r.values(p + "eta", {1})[0];
    auto q = r.values(p + "attn.to_q.weight", {0, d});
    const std::size_t h = q.size() / d;
    auto k = r.values(p + "attn.to_k.weight", {h, d});
    auto v = r.values(p + "attn.to_v.weight", {d, d});
    auto u = r.values(p + "ff.0.weight", {0, d});
    const std::size_t w = u.size() / d;
    auto b = r.values(p + "ff.0.bias", {w});
    auto wt = r.values(p + "ff.2.weight", {d, w});

    // rho = 1 and V = 0 is the identity whatever Q, K are; we require Q = K = 0 too, so that only
    // what `export` writes for a null layer reads back as null (a trained layer keeps its weights).
    if (rho == 1 && all_zero(q) && all_zero(k) && all_zero(v)) {
      ++report.identity_attention;
    } else {
      SelfAttention sa;
      sa.rho = rho;
      sa.Q = matrix(std::move(q), h, d);
      sa.K = matrix(std::move(k), h, d);
      sa.V = matrix(std::move(v), d, d);
      if (heads && (*heads)[l] >= 1 && (*heads)[l] < h) {
        Matrix Q = sa.Q, K = sa.K;  // a padding row is zero in both Q and K
        if (trim_rows(Q, (*heads)[l]) && trim_rows(K, (*heads)[l])) {
          report.trimmed_rows += h - (*heads)[l];
          sa.Q = std::move(Q);
          sa.K = std::move(K);
        }
      }
      m.blocks[l].sa = std::move(sa);
    }
    if (eta == 1 && all_zero(u) && all_zero(b) && all_zero(wt)) {
      ++report.identity_feed_forward;
    } else {
      FeedForward ff;
      ff.eta = eta;
      ff.U = matrix(std::move(u), w, d);
      ff.b = std::move(b);
      ff.W = matrix(std::move(wt), d, w);
      if (widths && (*widths)[l] >= 1 && (*widths)[l] < w) {
        // A padding neuron has a zero row of U, a zero bias and a zero column of W.
        const std::size_t keep = (*widths)[l];
        Matrix U = ff.U, Wt = transpose(ff.W);
        Matrix bias(w, 1);
        for (std::size_t j = 0; j < w; ++j) bias(j, 0) = ff.b[j];
        if (trim_rows(U, keep) && trim_rows(Wt, keep) && trim_rows(bias, keep)) {
          report.trimmed_rows += w - keep;
          ff.U = std::move(U);
          ff.W = transpose(Wt);
          ff.b.assign(bias.a.begin(), bias.a.end());
        }
      }
      m.blocks[l].ff = std::move(ff);
    }
  }
  return m;
}

}  // namespace interpcert
