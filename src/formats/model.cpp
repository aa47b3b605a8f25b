#include "interpcert/model.hpp"

#include "interpcert/document_kind.hpp"
#include "interpcert/sha256.hpp"
#include "interpcert/text_util.hpp"

#include <limits>

namespace interpcert {
namespace {

Matrix read_matrix(const JsonNode& node, std::size_t rows_expected, std::size_t cols_expected,
                   const char* shape) {
  std::size_t rows = node.nonempty_array_size();
  if (rows_expected && rows != rows_expected)
    node.fail("has " + std::to_string(rows) + " rows, expected " + std::to_string(rows_expected) + " (" + shape + ")");
  std::size_t cols = cols_expected ? cols_expected : node.at(0).nonempty_array_size();
  // Every row's length is checked before the matrix is allocated: a short file claiming a huge d
  // must fail here, not allocate rows x d rationals first (memory stays O(input size)).
  for (std::size_t i = 0; i < rows; ++i) {
    JsonNode row = node.at(i);
    if (row.array_size() != cols)
      row.fail("has " + std::to_string(row.array_size()) + " entries, expected " + std::to_string(cols) + " (" + shape + ")");
  }
  Matrix m(rows, cols);
  for (std::size_t i = 0; i < rows; ++i) {
    JsonNode row = node.at(i);
    for (std::size_t j = 0; j < cols; ++j) m(i, j) = row.rational_at(j);
  }
  return m;
}

SelfAttention read_attention(const JsonNode& n, std::size_t d) {
  n.only_keys({"rho", "Q", "K", "V"});
  SelfAttention sa;
  sa.rho = n.at("rho").rational();
  sa.Q = read_matrix(n.at("Q"), 0, d, "h x d");
  sa.K = read_matrix(n.at("K"), sa.Q.rows, d, "h x d, as many rows as Q");
  JsonNode v = n.at("V");
  if (v.is_object()) {
    v.only_keys({"left", "right"});
    sa.factored = true;
    sa.Vleft = read_matrix(v.at("left"), d, 0, "d x r");
    sa.Vright = read_matrix(v.at("right"), sa.Vleft.cols, d, "r x d");
  } else {
    sa.V = read_matrix(v, d, d, "d x d");
  }
  return sa;
}

FeedForward read_feed_forward(const JsonNode& n, std::size_t d) {
  n.only_keys({"eta", "U", "b", "W"});
  FeedForward ff;
  ff.eta = n.at("eta").rational();
  ff.U = read_matrix(n.at("U"), 0, d, "w x d");
  JsonNode b = n.at("b");
  if (b.array_size() != ff.U.rows)
    b.fail("has " + std::to_string(b.array_size()) + " entries, expected w = " + std::to_string(ff.U.rows));
  for (std::size_t i = 0; i < ff.U.rows; ++i) ff.b.push_back(b.rational_at(i));
  ff.W = read_matrix(n.at("W"), d, ff.U.rows, "d x w");
  return ff;
}

// The canonical lines of a matrix; `spill` is called after each row (to hand a long text on).
template <class Spill>
void append_matrix_canonical(std::string& out, const char* name, const Matrix& m, Spill spill) {
  out += std::string(name) + " " + std::to_string(m.rows) + " " + std::to_string(m.cols) + "\n";
  for (std::size_t i = 0; i < m.rows; ++i) {
    append_numbers_line(out, m.a.data() + i * m.cols, m.cols);
    spill();
  }
}

}  // namespace

Matrix SelfAttention::value_matrix() const { return factored ? matmul(Vleft, Vright) : V; }

Model model_from_json(const JsonNode& root) {
  require_format(root, "interpcert-model");
  root.only_keys({"format", "version", "d", "attention", "beta", "mask", "blocks", "comment", "name"});
  if (root.at("version").integer(0, std::numeric_limits<int>::max()) != 1)
    root.at("version").fail("unsupported model version (this tool reads version 1)");
  Model m;
  m.d = static_cast<std::size_t>(root.at("d").integer(1, 1 << 20));
  std::string att = root.at("attention").string();
  if (att == "hardmax") {
    m.attention = AttentionKind::Hardmax;
    if (root.has("beta")) root.at("beta").fail("\"beta\" must be absent for hardmax attention");
  } else if (att == "softmax") {
    m.attention = AttentionKind::Softmax;
    m.beta = root.at("beta").rational();
    if (*m.beta <= 0) root.at("beta").fail("beta must be > 0");
  } else {
    root.at("attention").fail("expected \"hardmax\" or \"softmax\"");
  }
  if (root.has("mask")) {
    // Optional (proofs/formats-v1.md): absent or "none" means no mask (the writer omits it).
    std::string mask = root.at("mask").string();
    if (mask == "causal") m.mask = MaskKind::Causal;
    else if (mask != "none") root.at("mask").fail("expected \"causal\" or \"none\"");
  }
  JsonNode blocks = root.at("blocks");
  std::size_t L = blocks.array_size();
  m.blocks.resize(L);
  for (std::size_t i = 0; i < L; ++i) {
    JsonNode b = blocks.at(i);
    b.only_keys({"sa", "ff"});
    if (!b.at("sa").is_null()) m.blocks[i].sa = read_attention(b.at("sa"), m.d);
    if (!b.at("ff").is_null()) m.blocks[i].ff = read_feed_forward(b.at("ff"), m.d);
  }
  return m;
}

Model model_load(const std::string& file) {
  JsonDocument doc = json_load(file);
  return model_from_json(JsonNode::root_of(doc));
}

namespace {
// Writers keep a local piece and hand it on once it exceeds this: a model of 10^7 parameters is
// never held whole as text.
constexpr std::size_t kPiece = 1 << 20;

// append_json_matrix row by row, handing `t` to `out` whenever it exceeds kPiece.
void write_matrix_json(std::string& t, TextOutput& out, const Matrix& m) {
  t += '[';
  for (std::size_t i = 0; i < m.rows; ++i) {
    t += i ? ", [" : "[";
    for (std::size_t j = 0; j < m.cols; ++j) {
      if (j) t += ", ";
      append_json_number(t, m.a[i * m.cols + j]);
    }
    t += ']';
    if (t.size() > kPiece) {
      out.write(t);
      t.clear();
    }
  }
  t += ']';
}
}  // namespace

std::string model_to_json_text(const Model& m) {
  StringOutput out;
  model_write_json(m, out);
  return std::move(out.text());
}

void model_write_json(const Model& m, TextOutput& out) {
  std::string t = "{\n  \"format\": \"interpcert-model\", \"version\": 1,\n  \"d\": " + std::to_string(m.d) +
                  ",\n  \"attention\": \"" + (m.attention == AttentionKind::Hardmax ? "hardmax" : "softmax") + "\",\n";
  if (m.beta) {
    t += "  \"beta\": ";
    append_json_number(t, *m.beta);
    t += ",\n";
  }
  if (m.mask == MaskKind::Causal) t += "  \"mask\": \"causal\",\n";
  t += "  \"blocks\": [";
  for (std::size_t i = 0; i < m.blocks.size(); ++i) {
    const Block& b = m.blocks[i];
    t += i ? ",\n    " : "\n    ";
    t += "{\"sa\": ";
    if (!b.sa) {
      t += "null";
    } else {
      t += "{\"rho\": ";
      append_json_number(t, b.sa->rho);
      t += ", \"Q\": ";
      write_matrix_json(t, out, b.sa->Q);
      t += ", \"K\": ";
      write_matrix_json(t, out, b.sa->K);
      t += ", \"V\": ";
      if (b.sa->factored) {
        t += "{\"left\": ";
        write_matrix_json(t, out, b.sa->Vleft);
        t += ", \"right\": ";
        write_matrix_json(t, out, b.sa->Vright);
        t += "}";
      } else {
        write_matrix_json(t, out, b.sa->V);
      }
      t += "}";
    }
    t += ", \"ff\": ";
    if (!b.ff) {
      t += "null";
    } else {
      t += "{\"eta\": ";
      append_json_number(t, b.ff->eta);
      t += ", \"U\": ";
      write_matrix_json(t, out, b.ff->U);
      t += ", \"b\": [";
      for (std::size_t j = 0; j < b.ff->b.size(); ++j) {
        if (j) t += ", ";
        append_json_number(t, b.ff->b[j]);
        if (t.size() > kPiece) {
          out.write(t);
          t.clear();
        }
      }
      t += "], \"W\": ";
      write_matrix_json(t, out, b.ff->W);
      t += "}";
    }
    t += "}";
  }
  t += m.blocks.empty() ? "]\n}\n" : "\n  ]\n}\n";
  out.write(t);
}

namespace {
// The canonical text in consecutive pieces: sink(piece) whenever more than kPiece is buffered
// (checked after every matrix row), and once at the end, so a digest never holds the text whole.
template <class Sink>
void model_canonical_pieces(const Model& m, Sink sink) {
  std::string t;
  // After each matrix row: hand the text on once it exceeds kPiece.
  auto spill = [&] {
    if (t.size() > kPiece) {
      sink(std::string_view(t));
      t.clear();
    }
  };
  t = "interpcert-model 1\nd " + std::to_string(m.d) + "\n";
  if (m.attention == AttentionKind::Hardmax) {
    t += "attention hardmax\n";
  } else {
    t += "attention softmax\nbeta " + rational_to_string(*m.beta) + "\n";
  }
  // Only causal models get the line, so every digest of an unmasked model is unchanged.
  if (m.mask == MaskKind::Causal) t += "mask causal\n";
  t += "blocks " + std::to_string(m.blocks.size()) + "\n";
  for (std::size_t i = 0; i < m.blocks.size(); ++i) {
    const Block& b = m.blocks[i];
    t += "block " + std::to_string(i) + "\n";
    if (!b.sa) {
      t += "sa none\n";
    } else {
      t += "sa rho " + rational_to_string(b.sa->rho) + "\n";
      append_matrix_canonical(t, "Q", b.sa->Q, spill);
      append_matrix_canonical(t, "K", b.sa->K, spill);
      if (b.sa->factored) {
        append_matrix_canonical(t, "Vleft", b.sa->Vleft, spill);
        append_matrix_canonical(t, "Vright", b.sa->Vright, spill);
      } else {
        append_matrix_canonical(t, "V", b.sa->V, spill);
      }
    }
    if (!b.ff) {
      t += "ff none\n";
    } else {
      t += "ff eta " + rational_to_string(b.ff->eta) + "\n";
      append_matrix_canonical(t, "U", b.ff->U, spill);
      // b as a column (w x 1 matrix), in place.
      t += "b " + std::to_string(b.ff->b.size()) + " 1\n";
      for (const Rational& x : b.ff->b) {
        append_numbers_line(t, &x, 1);
        spill();
      }
      append_matrix_canonical(t, "W", b.ff->W, spill);
    }
    spill();
  }
  sink(std::string_view(t));
}
}  // namespace

std::string model_canonical_text(const Model& m) {
  std::string out;
  model_canonical_pieces(m, [&](std::string_view piece) { out += piece; });
  return out;
}

std::string model_digest(const Model& m) {
  Sha256 h;
  model_canonical_pieces(m, [&](std::string_view piece) { h.update(piece); });
  return h.hex();
}

}  // namespace interpcert
