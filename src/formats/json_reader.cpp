#include "interpcert/json_reader.hpp"

#include "interpcert/errors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace interpcert {
namespace {

using nlohmann::json;

// Builds a json tree from SAX events. Floats keep their text, stored as a JSON "binary" value (a
// type JSON text never produces) so they still read as numbers: rational() takes their exact
// decimal value, and integer() can say "found the number 2.0" rather than "found a string". The
// builder knows the path of the value being parsed, so a syntax error can name it.
class ExactBuilder : public nlohmann::json_sax<json> {
 public:
  explicit ExactBuilder(std::string file) : file_(std::move(file)) {}
  json root;

  bool null() override { return put(json(nullptr)); }
  bool boolean(bool v) override { return put(json(v)); }
  bool number_integer(number_integer_t v) override { return put(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return put(json(v)); }
  bool number_float(number_float_t, const string_t& text) override {
    return put(json::binary(std::vector<std::uint8_t>(text.begin(), text.end())));
  }
  bool string(string_t& v) override { return put(json(std::move(v))); }
  bool binary(binary_t&) override { return put(json(nullptr)); }
  bool start_object(std::size_t) override {
    json* slot = insert(json::object());
    open_.push_back(slot);
    return true;
  }
  bool key(string_t& k) override {
    if (open_.back()->contains(k)) {
      throw InputError(file_, path_here() + "/" + json_pointer_escape(k), "duplicate key \"" + clip_for_message(k) + "\"");
    }
    keys_.back() = k;
    has_key_.back() = true;
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    json* slot = insert(json::array());
    open_.push_back(slot);
    return true;
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    // nlohmann's messages start with "[json.exception.parse_error.101] parse error at ...".
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    // ... and end with "; last read: '<token>'": the token is shown (clipped) below instead.
    if (auto p = what.find("; last read: "); p != std::string::npos) what.erase(p);
    if (what.find("number overflow") != std::string::npos)
      what += " (a JSON number literal beyond the double range: write it as a string, e.g. \"1e400\", "
              "which is read exactly)";
    std::string where = path_here();
    throw InputError(file_, where.empty() ? "/" : where,
                     "invalid JSON at byte " + std::to_string(position) + " near '" + clip_for_message(last_token) +
                         "': " + clip_for_message(what, 200));
  }

  // The path of the next value to be inserted (or of the container being filled).
  std::string path_here() const {
    std::string p;
    for (std::size_t i = 1; i < segments_.size(); ++i) p += "/" + segments_[i];
    if (!open_.empty()) {
      const json* top = open_.back();
      if (top->is_array()) p += "/" + std::to_string(top->size());
      else if (has_key_.back()) p += "/" + json_pointer_escape(keys_.back());
    }
    return p;
  }

 private:
  std::string file_;
  std::vector<json*> open_;
  std::vector<std::string> segments_;  // path segment of each open container ("" for the root)
  std::vector<std::string> keys_;      // pending key of each open container (objects)
  std::vector<bool> has_key_;

  json* insert(json v) {
    json* slot;
    std::string segment;
    if (open_.empty()) {
      root = std::move(v);
      slot = &root;
    } else if (open_.back()->is_array()) {
      segment = std::to_string(open_.back()->size());
      open_.back()->push_back(std::move(v));
      slot = &open_.back()->back();
    } else {
      segment = json_pointer_escape(keys_.back());
      slot = &((*open_.back())[keys_.back()] = std::move(v));
      has_key_.back() = false;
    }
    if (slot->is_structured()) {
      segments_.push_back(segment);
      keys_.emplace_back();
      has_key_.push_back(false);
    }
    return slot;
  }
  bool put(json v) {
    insert(std::move(v));
    return true;
  }
  bool close() {
    open_.pop_back();
    keys_.pop_back();
    has_key_.pop_back();
    segments_.pop_back();
    return true;
  }
};

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
    case json::value_t::binary: return "a number";
    default: return "an unsupported value";
  }
}

// The text of a number kept by ExactBuilder::number_float.
std::string number_text(const json& v) {
  const auto& bytes = v.get_binary();
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

std::string json_pointer_escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

JsonDocument json_parse(std::string_view text, const std::string& file) {
  ExactBuilder builder(file);
  bool ok = json::sax_parse(text.begin(), text.end(), &builder, nlohmann::detail::input_format_t::json,
                            /*strict=*/true);
  if (!ok) throw InputError(file, "", "invalid JSON");
  return JsonDocument{file, std::move(builder.root),
                      std::make_shared<ExponentBudget>(ExponentBudget::for_input_size(text.size()))};
}

JsonDocument json_load(const std::string& file) {
  // POSIX calls, so that every failure can say why (strerror) and a directory is not read as
  // an empty or invalid JSON file.
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(file, "", std::string("cannot open for reading: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw InputError(file, "", std::string("cannot stat: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw InputError(file, "", "is a directory, not a JSON file");
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
    throw InputError(file, "", "not a regular file (nor a pipe)");
  std::string text;
  if (S_ISREG(st.st_mode)) text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw InputError(file, "", std::string("error while reading: ") + std::strerror(errno));
    }
    if (r == 0) break;
    text.append(buf, static_cast<std::size_t>(r));
  }
  if (text.empty()) throw InputError(file, "", "empty file (expected a JSON document)");
  return json_parse(text, file);
}

bool JsonNode::has(std::string_view key) const { return v_->is_object() && v_->contains(key); }

JsonNode JsonNode::at(std::string_view key) const {
  if (!v_->is_object()) fail(std::string("expected an object, found ") + type_name(*v_));
  auto it = v_->find(key);
  if (it == v_->end())
    throw InputError(file_, path_ + "/" + json_pointer_escape(key), "missing required field \"" + std::string(key) + "\"");
  return JsonNode(*it, file_, path_ + "/" + json_pointer_escape(key), budget_);
}

JsonNode JsonNode::at(std::size_t i) const {
  if (!v_->is_array()) fail(std::string("expected an array, found ") + type_name(*v_));
  if (i >= v_->size()) fail("index " + std::to_string(i) + " out of range");
  return JsonNode((*v_)[i], file_, path_ + "/" + std::to_string(i), budget_);
}

std::size_t JsonNode::array_size() const {
  if (!v_->is_array()) fail(std::string("expected an array, found ") + type_name(*v_));
  return v_->size();
}

std::size_t JsonNode::nonempty_array_size() const {
  std::size_t n = array_size();
  if (n == 0) fail("expected a non-empty array");
  return n;
}

void JsonNode::only_keys(std::initializer_list<std::string_view> allowed) const {
  if (!v_->is_object()) fail(std::string("expected an object, found ") + type_name(*v_));
  for (auto it = v_->begin(); it != v_->end(); ++it) {
    bool ok = false;
    for (auto a : allowed) ok = ok || it.key() == a;
    if (!ok) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw InputError(file_, path_ + "/" + json_pointer_escape(it.key()),
                       "unknown field \"" + clip_for_message(it.key()) + "\" (expected one of: " + list + ")");
    }
  }
}

Rational JsonNode::rational() const {
  std::string text;
  if (v_->is_string()) text = v_->get<std::string>();
  else if (v_->is_number_integer()) text = v_->dump();
  else if (v_->is_binary()) text = number_text(*v_);
  else fail(std::string("expected a number (\"p/q\", \"p\" or a decimal), found ") + type_name(*v_));
  std::string why;
  auto q = rational_parse(text, &why, budget_);
  if (!q) fail("invalid number \"" + clip_for_message(text) + "\": " + why);
  return *q;
}

std::int64_t JsonNode::integer(std::int64_t lo, std::int64_t hi) const {
  if (v_->is_binary()) {  // a number with a fraction or exponent, or an integer beyond 64 bits
    std::string text = number_text(*v_);
    if (text.find_first_of(".eE") == std::string::npos)
      fail("integer " + clip_for_message(text) + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    fail("expected an integer (a JSON number without fraction or exponent, such as 2), found the number " +
         clip_for_message(text));
  }
  if (!v_->is_number_integer()) fail(std::string("expected an integer, found ") + type_name(*v_));
  if (v_->is_number_unsigned() && v_->get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
    fail("integer out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  std::int64_t x = v_->get<std::int64_t>();
  if (x < lo || x > hi) fail("integer " + std::to_string(x) + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

std::string JsonNode::string() const {
  if (!v_->is_string()) fail(std::string("expected a string, found ") + type_name(*v_));
  return v_->get<std::string>();
}

void JsonNode::fail(const std::string& message) const { throw InputError(file_, path_, message); }

}  // namespace interpcert
