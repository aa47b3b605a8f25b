#include "interpcert/dataset.hpp"

#include "interpcert/document_kind.hpp"
#include "interpcert/sha256.hpp"
#include "interpcert/text_util.hpp"

#include <limits>

namespace interpcert {
namespace {

Vec read_token(const JsonNode& node, std::size_t d) {
  std::size_t len = node.array_size();
  if (len != d)
    node.fail("token has " + std::to_string(len) + " numbers, expected d = " + std::to_string(d));
  Vec v;  // built in place: no default-constructed numbers to overwrite
  v.reserve(d);
  for (std::size_t i = 0; i < d; ++i) v.push_back(node.rational_at(i));
  return v;
}

// Appends one input token: int64 coordinates straight from their text when every one is an
// integer literal that fits (no rational built), exact rationals otherwise (Tokens keeps the
// values exactly either way; errors are rational_at's, with their paths).
void read_input_token(const JsonNode& node, std::size_t d, Tokens& out, std::vector<std::int64_t>& buf) {
  std::size_t len = node.array_size();
  if (len != d)
    node.fail("token has " + std::to_string(len) + " numbers, expected d = " + std::to_string(d));
  buf.resize(d);
  for (std::size_t i = 0; i < d; ++i)
    if (!node.int64_at(i, buf[i])) {
      Vec v;
      v.reserve(d);
      for (std::size_t k = 0; k < i; ++k) v.emplace_back(static_cast<long long>(buf[k]));
      for (std::size_t k = i; k < d; ++k) v.push_back(node.rational_at(k));
      out.push_back(v);
      return;
    }
  out.push_back_ints(buf.data(), d);
}

}  // namespace

std::size_t Dataset::total_outputs() const {
  std::size_t s = 0;
  for (const auto& q : sequences) s += q.output.size();
  return s;
}

std::size_t Dataset::total_tokens() const {
  std::size_t s = 0;
  for (const auto& q : sequences) s += q.input.size();
  return s;
}

namespace {
// The top-level fields (validated in the order the errors have always been reported in).
struct Header {
  std::size_t d = 0;
  std::string readout = "last";
};

Header read_header(const JsonNode& root) {
  require_format(root, "interpcert-dataset");
  root.only_keys({"format", "version", "d", "readout", "sequences", "comment", "name"});
  if (root.at("version").integer(0, std::numeric_limits<int>::max()) != 1)
    root.at("version").fail("unsupported dataset version (this tool reads version 1)");
  Header h;
  h.d = static_cast<std::size_t>(root.at("d").integer(1, 1 << 20));
  if (root.has("readout")) {
    h.readout = root.at("readout").string();
    if (h.readout != "last" && h.readout != "first") root.at("readout").fail("expected \"last\" or \"first\"");
  }
  return h;
}

// Sequence j, validated, into `out` (which is empty).
void read_sequence(const JsonNode& s, const Header& h, Sequence& out, std::vector<std::int64_t>& buf) {
  s.only_keys({"input", "output", "positions", "comment", "name"});
  JsonNode in = s.at("input");
  std::size_t n = in.nonempty_array_size();
  buf.resize(h.d);
  for (std::size_t i = 0; i < n; ++i) {
    // A row of int64 literals in one scan of its text; anything else (or an error) token by token.
    if (in.int64_row_at(i, h.d, buf.data())) out.input.push_back_ints(buf.data(), h.d);
    else read_input_token(in.at(i), h.d, out.input, buf);
    if (i == 0) out.input.reserve(n);
  }
  JsonNode tg = s.at("output");
  std::size_t m = tg.nonempty_array_size();
  if (m > n)
    tg.fail("m_j = " + std::to_string(m) + " output tokens but only n_j = " + std::to_string(n) +
            " input tokens (need 1 <= m_j <= n_j)");
  out.output.reserve(m);
  for (std::size_t k = 0; k < m; ++k) {
    if (tg.int64_row_at(k, h.d, buf.data())) {  // as for the inputs: the values rational_at reads
      Vec v;
      v.reserve(h.d);
      for (std::size_t c = 0; c < h.d; ++c) v.emplace_back(static_cast<long long>(buf[c]));
      out.output.push_back(std::move(v));
    } else {
      out.output.push_back(read_token(tg.at(k), h.d));
    }
  }
  if (s.has("positions")) {
    JsonNode ps = s.at("positions");
    if (ps.array_size() != m)
      ps.fail("has " + std::to_string(ps.array_size()) + " entries, expected one per output token (" +
              std::to_string(m) + ")");
    std::vector<bool> seen(n, false);
    for (std::size_t k = 0; k < m; ++k) {
      auto p = static_cast<std::size_t>(ps.at(k).integer(0, static_cast<std::int64_t>(n) - 1));
      if (seen[p]) ps.at(k).fail("position " + std::to_string(p) + " repeated (positions must be distinct)");
      seen[p] = true;
      out.positions.push_back(p);
    }
  } else {
    for (std::size_t k = 0; k < m; ++k) out.positions.push_back(h.readout == "last" ? n - m + k : k);
  }
}
}  // namespace

Dataset dataset_from_json(const JsonNode& root) {
  const Header h = read_header(root);
  Dataset ds;
  ds.d = h.d;
  JsonNode seqs = root.at("sequences");
  std::size_t count = seqs.nonempty_array_size();
  ds.sequences.resize(count);
  std::vector<std::int64_t> buf;
  for (std::size_t j = 0; j < count; ++j) read_sequence(seqs.at(j), h, ds.sequences[j], buf);
  return ds;
}

Dataset dataset_load(const std::string& file) {
  JsonDocument doc = json_load(file);
  return dataset_from_json(JsonNode::root_of(doc));
}

namespace {
std::string canonical_header(std::size_t d, std::size_t count) {
  return "interpcert-dataset 1\nd " + std::to_string(d) + "\nsequences " + std::to_string(count) + "\n";
}

void append_canonical_sequence(std::string& t, const Sequence& s) {
  t += "seq " + std::to_string(s.input.size()) + " " + std::to_string(s.output.size()) + "\n";
  for (std::size_t i = 0; i < s.input.size(); ++i) s.input.append_line(t, i);
  for (const auto& y : s.output) append_numbers_line(t, y);
  t += "positions";
  for (auto p : s.positions) {
    t += ' ';
    t += std::to_string(p);
  }
  t += '\n';
}

constexpr std::size_t kPiece = std::size_t{1} << 20;

// The canonical text of `count` sequences in dimension d, sequence(j) giving the j-th, in
// consecutive pieces: sink(piece) whenever a sequence leaves more than 1 MiB buffered, and once
// at the end, so a digest never holds the text whole.
template <class SequenceAt, class Sink>
void canonical_pieces(std::size_t d, std::size_t count, SequenceAt sequence, Sink sink) {
  std::string t = canonical_header(d, count);
  for (std::size_t j = 0; j < count; ++j) {
    append_canonical_sequence(t, sequence(j));
    if (t.size() > kPiece) {
      sink(std::string_view(t));
      t.clear();
    }
  }
  sink(std::string_view(t));
}

template <class Sink>
void dataset_canonical_pieces(const Dataset& ds, Sink sink) {
  canonical_pieces(ds.d, ds.sequences.size(), [&](std::size_t j) -> const Sequence& { return ds.sequences[j]; },
                   sink);
}
}  // namespace

std::string dataset_canonical_text(const Dataset& ds) {
  std::string out;
  dataset_canonical_pieces(ds, [&](std::string_view piece) { out += piece; });
  return out;
}

std::string dataset_digest(const Dataset& ds) {
  Sha256 h;
  dataset_canonical_pieces(ds, [&](std::string_view piece) { h.update(piece); });
  return h.hex();
}

std::string dataset_digest_of_json(const JsonNode& root) {
  const Header h = read_header(root);
  JsonNode seqs = root.at("sequences");
  const std::size_t count = seqs.nonempty_array_size();
  Sha256 sha;
  std::vector<std::int64_t> buf;
  Sequence s;
  canonical_pieces(
      h.d, count,
      [&](std::size_t j) -> const Sequence& {
        s = Sequence{};  // one at a time: read (validated exactly as dataset_from_json does), hashed, dropped
        read_sequence(seqs.at(j), h, s, buf);
        return s;
      },
      [&](std::string_view piece) { sha.update(piece); });
  return sha.hex();
}

std::string dataset_to_json_text(const Dataset& ds) {
  std::string t = "{\n  \"format\": \"interpcert-dataset\", \"version\": 1,\n  \"d\": " +
                  std::to_string(ds.d) + ",\n  \"sequences\": [\n";
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    const auto& s = ds.sequences[j];
    t += "    {\"input\": ";
    append_json_matrix(t, s.input.to_vecs());
    t += ",\n     \"output\": ";
    append_json_matrix(t, s.output);
    t += ", \"positions\": [";
    for (std::size_t k = 0; k < s.positions.size(); ++k) t += (k ? ", " : "") + std::to_string(s.positions[k]);
    t += "]}";
    t += j + 1 < ds.sequences.size() ? ",\n" : "\n";
  }
  t += "  ]\n}\n";
  return t;
}

}  // namespace interpcert
