#include "interpcert/errors.hpp"
#include "interpcert/torch_state.hpp"
#include "random_model.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace interpcert;

namespace {

bool zero(const std::vector<Rational>& v) {
  for (auto& q : v)
    if (q != 0) return false;
  return true;
}

// What an exact import must give back, derived from the definitions (not from the importer): V
// multiplied out; a layer of zero weights with rho = 1 (eta = 1) is the identity, null.
Model expected_import(Model m) {
  for (Block& b : m.blocks) {
    if (b.sa) {
      b.sa->V = b.sa->value_matrix();
      b.sa->factored = false;
      b.sa->Vleft = b.sa->Vright = Matrix();
      if (b.sa->rho == 1 && zero(b.sa->Q.a) && zero(b.sa->K.a) && zero(b.sa->V.a)) b.sa.reset();
    }
    if (b.ff && b.ff->eta == 1 && zero(b.ff->U.a) && zero(b.ff->b) && zero(b.ff->W.a)) b.ff.reset();
  }
  return m;
}

// Every weight replaced by the nearest float of `f` (so that the export is exact).
Model rounded_to(Model m, FloatEncoding f) {
  auto r = [&](Rational& q) { q = *float_decode(*float_round_nearest(q, f), f); };
  for (Block& b : m.blocks) {
    if (b.sa) {
      r(b.sa->rho);
      b.sa->V = b.sa->value_matrix();  // export multiplies V out exactly, then rounds
      b.sa->factored = false;
      b.sa->Vleft = b.sa->Vright = Matrix();
      for (Matrix* x : {&b.sa->Q, &b.sa->K, &b.sa->V})
        for (auto& q : x->a) r(q);
    }
    if (b.ff) {
      r(b.ff->eta);
      for (auto& q : b.ff->U.a) r(q);
      for (auto& q : b.ff->b) r(q);
      for (auto& q : b.ff->W.a) r(q);
    }
  }
  return m;
}

Model import_bytes(const std::string& bytes, TorchImportOptions opt = {}) {
  TorchImportReport rep;
  return model_from_safetensors(safetensors_parse(bytes, "m.safetensors"), opt, rep);
}

std::string export_bytes(const Model& m, TorchExportOptions opt = {}) {
  TorchExportReport rep;
  return model_to_safetensors(m, opt, rep, "m.json");
}

Model softmax(Model m) {
  m.attention = AttentionKind::Softmax;
  m.beta = Rational(7, 3);
  return m;
}

}  // namespace

TEST_CASE("torch_state::export then import is exact when every weight is a float (both dtypes, uniform or not)") {
  std::uint64_t seed = 1111;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int t = 0; t < 300; ++t) {
    std::size_t d = 1 + rng() % 4, L = 1 + rng() % 5;
    FloatEncoding f = t % 2 ? kEncodingF32 : kEncodingF64;
    Model m = rounded_to(testing::random_model(rng, d, L), f);
    if (t % 3 == 0) m = softmax(m);
    for (bool uniform : {false, true}) {
      TorchExportReport rep;
      std::string bytes = model_to_safetensors(m, {f, uniform}, rep, "m.json");
      CHECK(rep.rounded == 0);
      Model back = import_bytes(bytes);
      CHECK(model_canonical_text(back) == model_canonical_text(expected_import(m)));
      // The metadata's dense_digest is what an exact import gives back, unless a zero layer was
      // stored with weights (rare, and then the import reads it as null).
      if (model_digest(expected_import(m)) == safetensors_parse(bytes, "m").metadata.at("dense_digest")) {
        CHECK(model_digest(back) == safetensors_parse(bytes, "m").metadata.at("dense_digest"));
      }
    }
  }
}

TEST_CASE("torch_state::export rounds to nearest and reports the largest relative error exactly") {
  std::uint64_t seed = 2222;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int t = 0; t < 100; ++t) {
    std::size_t d = 1 + rng() % 3;
    Model m = testing::random_model(rng, d, 1 + rng() % 4);
    if (!m.blocks[0].ff) m.blocks[0].ff = FeedForward{1, Matrix(1, d), Vec(1), Matrix(d, 1)};
    for (auto& b : m.blocks)
      if (b.ff) b.ff->eta = Rational(1, 3);  // not a float in any format
    FloatEncoding f = t % 2 ? kEncodingF32 : kEncodingF64;
    TorchExportReport rep;
    Model back = import_bytes(model_to_safetensors(m, {f, false}, rep, "m.json"));
    Model want = expected_import(m), near = expected_import(rounded_to(m, f));
    CHECK(model_canonical_text(back) == model_canonical_text(near));
    // The reported maximum is attained and is an upper bound, and within the unit roundoff.
    Rational worst = 0;
    for (std::size_t l = 0; l < back.blocks.size(); ++l)
      if (back.blocks[l].ff && want.blocks[l].ff) {
        worst = std::max(worst, float_relative_error(want.blocks[l].ff->eta, back.blocks[l].ff->eta));
        for (std::size_t i = 0; i < want.blocks[l].ff->U.a.size(); ++i)
          CHECK(float_relative_error(want.blocks[l].ff->U.a[i], back.blocks[l].ff->U.a[i]) <= rep.max_relative_error);
      }
    CHECK(worst <= rep.max_relative_error);
    CHECK(rep.rounded > 0);
    const Rational u(1, Integer(1) << (f.frac_bits + 1));
    CHECK(rep.max_relative_error <= u);
    CHECK(rep.max_relative_error <= Rational(1, Integer(1) << rep.error_exponent));
    CHECK(rep.max_relative_error > Rational(1, Integer(1) << (rep.error_exponent + 1)));
  }
}

TEST_CASE("torch_state::import then export then import is the identity; export is deterministic") {
  std::uint64_t seed = 3333;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int t = 0; t < 100; ++t) {
    Model m = testing::random_model(rng, 1 + rng() % 3, 1 + rng() % 4);
    std::string first = export_bytes(m, {t % 2 ? kEncodingF32 : kEncodingF64, t % 4 < 2});
    CHECK(export_bytes(m, {t % 2 ? kEncodingF32 : kEncodingF64, t % 4 < 2}) == first);
    Model a = import_bytes(first);
    Model b = import_bytes(export_bytes(a, {t % 2 ? kEncodingF32 : kEncodingF64, false}));
    CHECK(model_to_json_text(a) == model_to_json_text(b));
  }
}

TEST_CASE("torch_state::uniform export pads every block to the common h and w") {
  Model m;
  m.d = 2;
  m.blocks.resize(3);
  m.blocks[0].ff = FeedForward{1, Matrix(4, 2), Vec(4, Rational(1)), Matrix(2, 4)};
  m.blocks[1].sa = SelfAttention{};
  m.blocks[1].sa->rho = 1;
  m.blocks[1].sa->Q = m.blocks[1].sa->K = Matrix(1, 2);
  m.blocks[1].sa->Q(0, 0) = 1;
  m.blocks[1].sa->V = Matrix(2, 2);
  m.blocks[2].ff = FeedForward{0, Matrix(2, 2), Vec(2, Rational(-1)), Matrix(2, 2)};
  SafeTensorsFile f = safetensors_parse(export_bytes(m, {kEncodingF64, true}), "u");
  for (int l = 0; l < 3; ++l) {
    std::string p = "blocks." + std::to_string(l) + ".";
    CHECK(f.tensors.at(p + "attn.to_q.weight").shape == std::vector<std::uint64_t>{1, 2});
    CHECK(f.tensors.at(p + "ff.0.weight").shape == std::vector<std::uint64_t>{4, 2});
    CHECK(f.tensors.at(p + "ff.0.bias").shape == std::vector<std::uint64_t>{4});
    CHECK(f.tensors.at(p + "ff.2.weight").shape == std::vector<std::uint64_t>{2, 4});
  }
  CHECK(f.metadata.at("heads") == "0,1,0");
  CHECK(f.metadata.at("ff_widths") == "4,0,2");
  TorchImportReport rep;
  Model back = model_from_safetensors(f, {}, rep);
  CHECK(rep.trimmed_rows == 2);
  CHECK(model_canonical_text(back) == model_canonical_text(m));
}

namespace {

// One tensor replaced: its bytes re-laid-out by safetensors_write (offsets stay honest).
std::string edited(const Model& m, const std::string& name, const std::string& dtype,
                   std::vector<std::uint64_t> shape, std::string bytes, bool remove = false,
                   std::map<std::string, std::string> meta_edit = {}) {
  SafeTensorsFile f = safetensors_parse(export_bytes(m), "m");
  std::vector<SafeTensorOut> out;
  for (auto& [n, t] : f.tensors) {
    if (n == name && remove) continue;
    if (n == name) out.push_back({n, dtype, shape, bytes});
    else out.push_back({n, t.dtype, t.shape, std::string(f.data(t))});
  }
  if (!f.tensors.count(name) && !remove) out.push_back({name, dtype, shape, bytes});
  for (auto& [k, v] : meta_edit) {
    if (v.empty()) f.metadata.erase(k);
    else f.metadata[k] = v;
  }
  return safetensors_write(out, f.metadata);
}

std::string refusal(const std::string& bytes, std::string* path = nullptr, TorchImportOptions opt = {}) {
  try {
    import_bytes(bytes, opt);
  } catch (const InputError& e) {
    if (path) *path = e.json_path();
    return e.what();
  }
  return "<accepted>";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string f64(double x) {
  std::string b(8, '\0');
  std::uint64_t u = std::bit_cast<std::uint64_t>(x);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(u >> (8 * i));
  return b;
}

}  // namespace

TEST_CASE("torch_state::import refuses, naming the tensor: missing, misshapen, unknown dtype, NaN, infinity") {
  std::mt19937_64 rng(5);
  Model m = testing::random_model(rng, 2, 2);
  m.blocks[0].sa = SelfAttention{Rational(2), Matrix(1, 2), Matrix(1, 2), false, Matrix(2, 2), {}, {}};
  std::string path;
  CHECK(refusal(edited(m, "x", "", {}, "", true)) == "<accepted>");  // the unedited file
  CHECK(has(refusal(edited(m, "blocks.0.eta", "", {}, "", true), &path), "missing tensor \"blocks.0.eta\""));
  CHECK(has(refusal(edited(m, "blocks.1.ff.0.bias", "", {}, "", true)), "missing tensor \"blocks.1.ff.0.bias\""));
  CHECK(has(refusal(edited(m, "blocks.0.rho", "F64", {2}, f64(1) + f64(2)), &path), "shape [2], expected [1]"));
  CHECK(path == "/blocks.0.rho");
  CHECK(has(refusal(edited(m, "blocks.0.attn.to_k.weight", "F64", {2, 2}, std::string(32, '\0')), &path),
            "shape [2, 2], expected [1, 2]"));
  CHECK(path == "/blocks.0.attn.to_k.weight");
  CHECK(has(refusal(edited(m, "blocks.0.attn.to_v.weight", "F64", {4}, std::string(32, '\0')), &path), "shape [4]"));
  CHECK(has(refusal(edited(m, "blocks.0.rho", "I64", {1}, f64(1)), &path), "dtype I64 is not a float type"));
  CHECK(path == "/blocks.0.rho");
  CHECK(has(refusal(edited(m, "blocks.0.rho", "F64", {1}, f64(std::nan(""))), &path), "NaN or an infinity"));
  CHECK(path == "/blocks.0.rho");
  CHECK(has(refusal(edited(m, "blocks.0.rho", "F16", {1}, std::string("\x00\x7c", 2)), &path), "NaN or an infinity"));
  CHECK(has(refusal(edited(m, "blocks.0.rho", "BF16", {1}, std::string("\x80\xff", 2)), &path), "NaN or an infinity"));
  CHECK(has(refusal(edited(m, "blocks.0.rho", "F32", {1}, std::string("\x00\x00\xc0\x7f", 4)), &path), "NaN"));
  CHECK(has(refusal(edited(m, "blocks.0.head.weight", "F64", {1}, f64(1)), &path), "unexpected tensor"));
  CHECK(path == "/blocks.0.head.weight");
  CHECK(has(refusal(edited(m, "blocks.01.rho", "F64", {1}, f64(1))), "unexpected tensor"));
  CHECK(has(refusal(edited(m, "blocks.3.rho", "F64", {1}, f64(1))), "says 2 blocks"));
  CHECK(has(refusal(edited(m, "blocks.3.rho", "F64", {1}, f64(1), false, {{"blocks", ""}, {"heads", ""}, {"ff_widths", ""}})),
            "missing tensor \"blocks.2.rho\""));
  // Accepted variants: a 0-d rho, and F16/BF16 weights, converted exactly.
  CHECK(refusal(edited(m, "blocks.0.rho", "F64", {}, f64(2))) == "<accepted>");
  Model h = import_bytes(edited(m, "blocks.0.rho", "BF16", {1}, std::string("\x49\x40", 2)));
  CHECK(h.blocks[0].sa->rho == Rational(201, 64));
  h = import_bytes(edited(m, "blocks.0.rho", "F16", {1}, std::string("\x01\x80", 2)));  // -2^-24
  CHECK(h.blocks[0].sa->rho == Rational(-1, Integer(1) << 24));
}

TEST_CASE("torch_state::import refuses metadata that contradicts the tensors, and decides the attention") {
  std::mt19937_64 rng(6);
  Model m = testing::random_model(rng, 2, 2);
  std::string path;
  CHECK(has(refusal(edited(m, "x", "", {}, "", true, {{"d", "3"}}), &path), "shape"));
  CHECK(has(refusal(edited(m, "x", "", {}, "", true, {{"blocks", "3"}}), &path), "says 3 blocks"));
  CHECK(path == "/__metadata__/blocks");
  CHECK(has(refusal(edited(m, "x", "", {}, "", true, {{"heads", "1"}}), &path), "lists 1 blocks"));
  CHECK(path == "/__metadata__/heads");
  CHECK(has(refusal(edited(m, "x", "", {}, "", true, {{"attention", "linear"}}), &path), "expected \"hardmax\""));
  CHECK(has(refusal(edited(m, "x", "", {}, "", true, {{"beta", "-1"}}), &path), "> 0"));
  CHECK(has(refusal(edited(m, "x", "", {}, "", true, {{"attention", "softmax"}})), "softmax without \"beta\""));
  CHECK(refusal(edited(m, "x", "", {}, "", true, {{"mask", "none"}})) == "<accepted>");
  CHECK(import_bytes(edited(m, "x", "", {}, "", true, {{"mask", "none"}})).mask == MaskKind::None);
  CHECK(import_bytes(edited(m, "x", "", {}, "", true, {{"mask", "causal"}})).mask == MaskKind::Causal);
  {  // A causal model survives export -> import with its mask (and the digest that covers it).
    Model c = m;
    c.mask = MaskKind::Causal;
    Model back = import_bytes(export_bytes(c));
    CHECK(back.mask == MaskKind::Causal);
    CHECK(model_digest(back) == model_digest(import_bytes(export_bytes(c))));
    CHECK(export_bytes(c) != export_bytes(m));
  }
  CHECK(has(refusal(edited(m, "x", "", {}, "", true, {{"mask", "sliding"}}), &path), "expected \"none\" or \"causal\""));
  CHECK(path == "/__metadata__/mask");
  // No attention in the file: the command line decides; both present and different: refused.
  std::string bare = edited(m, "x", "", {}, "", true, {{"attention", ""}});
  CHECK(has(refusal(bare), "give --hardmax, --beta B or --tau T"));
  Model s = import_bytes(bare, {AttentionKind::Softmax, Rational(5)});
  CHECK((s.attention == AttentionKind::Softmax && *s.beta == 5));
  CHECK(has(refusal(export_bytes(m), &path, {AttentionKind::Softmax, Rational(5)}), "the command line says otherwise"));
  CHECK(import_bytes(export_bytes(m), {AttentionKind::Hardmax, std::nullopt}).attention == AttentionKind::Hardmax);
  Model sm = softmax(m);
  CHECK(*import_bytes(export_bytes(sm)).beta == Rational(7, 3));
  CHECK(has(refusal(export_bytes(sm), &path, {AttentionKind::Softmax, Rational(7, 2)}), "otherwise"));
}

TEST_CASE("torch_state::export refuses a weight beyond the float range, naming the tensor") {
  Model m;
  m.d = 1;
  m.blocks.resize(1);
  m.blocks[0].ff = FeedForward{1, Matrix(1, 1), Vec{Rational(Integer(1) << 200)}, Matrix(1, 1)};
  CHECK_NOTHROW(export_bytes(m, {kEncodingF64, false}));
  try {
    export_bytes(m, {kEncodingF32, false});
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("blocks.0.ff.0.bias") != std::string::npos);
  }
}
