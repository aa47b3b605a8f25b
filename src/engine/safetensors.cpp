#include "interpcert/safetensors.hpp"

#include "interpcert/errors.hpp"
#include "interpcert/json_reader.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace interpcert {
namespace {

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

std::uint64_t read_u64_le(const std::string& b) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[static_cast<std::size_t>(i)]);
  return v;
}

void append_u64_le(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

SafeTensor read_tensor(const JsonNode& n, const std::string& name) {
  if (!n.is_object()) n.fail("tensor \"" + name + "\": expected an object {\"dtype\", \"shape\", \"data_offsets\"}");
  n.only_keys({"dtype", "shape", "data_offsets"});
  SafeTensor t;
  t.name = name;
  t.dtype = n.at("dtype").string();
  if (safetensors_dtype_size(t.dtype) == 0) n.at("dtype").fail("tensor \"" + name + "\": unknown dtype \"" + t.dtype + "\"");
  JsonNode shape = n.at("shape");
  std::uint64_t elements = 1;
  bool overflow = false;
  for (std::size_t i = 0; i < shape.array_size(); ++i) {
    auto s = static_cast<std::uint64_t>(shape.at(i).integer(0, std::numeric_limits<std::int64_t>::max()));
    t.shape.push_back(s);
    if (s && elements > kMaxU64 / s) overflow = true;
    elements = overflow ? 0 : elements * s;
  }
  std::uint64_t size = safetensors_dtype_size(t.dtype);
  if (overflow || (elements && size > kMaxU64 / elements)) shape.fail("tensor \"" + name + "\": shape too large");
  JsonNode off = n.at("data_offsets");
  if (off.array_size() != 2) off.fail("tensor \"" + name + "\": expected [begin, end]");
  t.begin = static_cast<std::uint64_t>(off.at(0).integer(0, std::numeric_limits<std::int64_t>::max()));
  t.end = static_cast<std::uint64_t>(off.at(1).integer(0, std::numeric_limits<std::int64_t>::max()));
  if (t.end < t.begin) off.fail("tensor \"" + name + "\": data_offsets end " + std::to_string(t.end) + " < begin " +
                                std::to_string(t.begin));
  if (t.end - t.begin != elements * size)
    off.fail("tensor \"" + name + "\": data_offsets span " + std::to_string(t.end - t.begin) + " bytes, but shape and " +
             t.dtype + " need " + std::to_string(elements * size));
  return t;
}

}  // namespace

std::uint64_t SafeTensor::elements() const {
  std::uint64_t e = 1;
  for (auto s : shape) e *= s;  // validated against overflow when read
  return e;
}

std::string_view SafeTensorsFile::data(const SafeTensor& t) const {
  return std::string_view(bytes).substr(data_start + t.begin, t.end - t.begin);
}

std::size_t safetensors_dtype_size(std::string_view dtype) {
  static const std::pair<std::string_view, std::size_t> kSizes[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}};
  for (auto& [name, size] : kSizes)
    if (name == dtype) return size;
  return 0;
}

SafeTensorsFile safetensors_parse(std::string bytes, const std::string& file) {
  SafeTensorsFile f;
  f.file = file;
  if (bytes.size() < 8)
    throw InputError(file, "", "not a safetensors file: " + std::to_string(bytes.size()) +
                                   " bytes, fewer than the 8-byte header length");
  std::uint64_t n = read_u64_le(bytes);
  if (n > kSafetensorsMaxHeader)
    throw InputError(file, "", "header length " + std::to_string(n) + " exceeds the limit of " +
                                   std::to_string(kSafetensorsMaxHeader) + " bytes");
  if (n > bytes.size() - 8)
    throw InputError(file, "", "header length " + std::to_string(n) + " exceeds the " +
                                   std::to_string(bytes.size() - 8) + " bytes after the length field");
  if (n < 2 || bytes[8] != '{') throw InputError(file, "", "the header does not start with '{'");
  f.data_start = 8 + static_cast<std::size_t>(n);
  JsonDocument doc = json_parse(std::string_view(bytes).substr(8, n), file);
  JsonNode root = JsonNode::root_of(doc);
  if (!root.is_object()) root.fail("the header must be a JSON object");
  for (const std::string& key : root.keys()) {
    JsonNode node = root.at(key);
    if (key == "__metadata__") {
      if (!node.is_object()) node.fail("expected an object of strings");
      for (const std::string& m : node.keys()) f.metadata[m] = node.at(m).string();
      continue;
    }
    f.tensors[key] = read_tensor(node, key);
  }
  // The byte ranges, sorted by offset, must tile [0, data size) exactly.
  std::vector<const SafeTensor*> order;
  for (auto& [name, t] : f.tensors) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const SafeTensor* a, const SafeTensor* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  const std::uint64_t data_size = bytes.size() - f.data_start;
  std::uint64_t at = 0;
  for (const SafeTensor* t : order) {
    std::string where = "/";
    where += json_pointer_escape(t->name);
    where += "/data_offsets";
    if (t->begin < at)
      throw InputError(file, where, "tensor \"" + t->name + "\": bytes [" + std::to_string(t->begin) + ", " +
                                        std::to_string(t->end) + ") overlap the previous tensor, which ends at " +
                                        std::to_string(at));
    if (t->begin > at)
      throw InputError(file, where, "tensor \"" + t->name + "\": gap: it starts at " + std::to_string(t->begin) +
                                        " but the previous tensor ends at " + std::to_string(at));
    if (t->end > data_size)
      throw InputError(file, where, "tensor \"" + t->name + "\": bytes [" + std::to_string(t->begin) + ", " +
                                        std::to_string(t->end) + ") beyond the " + std::to_string(data_size) +
                                        " bytes of data");
    at = t->end;
  }
  if (at != data_size)
    throw InputError(file, "", std::to_string(data_size - at) + " bytes of data after the last tensor (at " +
                                   std::to_string(at) + ") belong to no tensor");
  f.bytes = std::move(bytes);
  return f;
}

SafeTensorsFile safetensors_load(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "", "cannot open file");
  std::ostringstream s;
  s << in.rdbuf();
  if (!in && !in.eof()) throw InputError(file, "", "cannot read file");
  return safetensors_parse(std::move(s).str(), file);
}

std::string safetensors_write(const std::vector<SafeTensorOut>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (auto& [k, v] : metadata) {
      if (!first) header += ',';
      header += json_string(k);
      header += ':';
      header += json_string(v);
      first = false;
    }
    header += "}";
  }
  std::uint64_t at = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const SafeTensorOut& t = tensors[i];
    std::uint64_t elements = 1;
    for (auto s : t.shape) elements *= s;
    if (elements * safetensors_dtype_size(t.dtype) != t.bytes.size() || safetensors_dtype_size(t.dtype) == 0)
      throw std::invalid_argument("safetensors_write: tensor " + t.name + " has the wrong byte count");
    if (header.size() > 1) header += ",";
    header += json_string(t.name) + ":{\"dtype\":" + json_string(t.dtype) + ",\"shape\":[";
    for (std::size_t j = 0; j < t.shape.size(); ++j) {
      if (j) header += ',';
      header += std::to_string(t.shape[j]);
    }
    header += "],\"data_offsets\":[" + std::to_string(at) + "," + std::to_string(at + t.bytes.size()) + "]}";
    at += t.bytes.size();
  }
  header += "}";
  while (header.size() % 8) header += ' ';  // the data then starts 8-byte aligned
  std::string out;
  out.reserve(8 + header.size() + at);
  append_u64_le(out, header.size());
  out += header;
  for (const SafeTensorOut& t : tensors) out += t.bytes;
  return out;
}

int safetensors_fuzz_one(const std::uint8_t* data, std::size_t size) {
  try {
    SafeTensorsFile f = safetensors_parse(std::string(reinterpret_cast<const char*>(data), size), "<fuzz>");
    for (auto& [name, t] : f.tensors) (void)f.data(t);
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace interpcert
