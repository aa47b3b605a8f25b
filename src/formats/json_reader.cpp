#include "interpcert/json_reader.hpp"

#include "interpcert/errors.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <unordered_set>
#include <vector>

namespace interpcert {

namespace detail {

/// One array or object: one past its closing bracket, its element count, and how many arrays
/// and objects it contains (so the entry of its next sibling is this one's + 1 + inner).
struct Container {
  std::uint64_t end;
  std::uint32_t count;
  std::uint32_t inner;
};

/// Storage for the large arrays of a document (its text, its container index). From 2 MiB,
/// 2 MiB-aligned with transparent huge pages requested: filling 171 MB of 4 KiB pages costs
/// ~40,000 page faults, several times the cost of the copy itself on a virtual machine. The block
/// comes from malloc: by glibc's default policy a block this large is a mapping of its own anyway,
/// and in a process that keeps freed memory (certify: src/cli/malloc_policy.hpp) the 1.8 GB of a
/// 10^7-token dataset's text and index are reused by what comes after the document instead of
/// being unmapped, then faulted in and zeroed again from DRAM. T is trivially copyable; one
/// element more than the capacity is allocated, and the one after the contents is always zero
/// (set_size keeps it so), so a text is always followed by a '\0'.
template <class T>
class BigArray {
 public:
  BigArray() = default;
  /// Room for `capacity` elements (size 0).
  explicit BigArray(std::size_t capacity) { allocate(capacity); }
  BigArray(const BigArray&) = delete;
  BigArray& operator=(const BigArray&) = delete;
  BigArray(BigArray&& o) noexcept { swap(o); }
  BigArray& operator=(BigArray&& o) noexcept {
    BigArray tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~BigArray() { release(); }

  const T* data() const { return data_; }
  T* data() { return data_; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T& operator[](std::size_t i) { return data_[i]; }
  /// Appends n elements, growing (doubling) when full.
  void append(const T* p, std::size_t n) {
    if (size_ + n > cap_) {
      BigArray bigger(std::max(2 * cap_, size_ + n));
      if (size_) std::memcpy(bigger.data_, data_, size_ * sizeof(T));
      bigger.size_ = size_;
      swap(bigger);
    }
    if (n) std::memcpy(data_ + size_, p, n * sizeof(T));
    set_size(size_ + n);
  }
  void push_back(const T& x) { append(&x, 1); }
  /// Marks the first n elements (written through data()) as the contents; n <= capacity().
  void set_size(std::size_t n) {
    size_ = n;
    data_[size_] = T{};
  }

 private:
  static constexpr std::size_t kHugePage = std::size_t{1} << 21;  // below one huge page: plain new[]
  T* data_ = nullptr;
  std::size_t size_ = 0, cap_ = 0;
  bool aligned_ = false;  // from aligned_alloc (else new[])

  void allocate(std::size_t capacity) {
    cap_ = capacity;
    const std::size_t bytes = (capacity + 1) * sizeof(T);
    if (bytes >= kHugePage) {
      const std::size_t len = (bytes + kHugePage - 1) & ~(kHugePage - 1);
      if (void* m = std::aligned_alloc(kHugePage, len)) {
#ifdef MADV_HUGEPAGE
        (void)::madvise(m, len, MADV_HUGEPAGE);  // advice only: without it, 4 KiB pages
#endif
        data_ = static_cast<T*>(m);
        data_[0] = T{};  // not zero-filled: only the element after the (empty) contents
        aligned_ = true;
        return;
      }
    }
    data_ = new T[capacity + 1]();
  }
  void release() {
    if (aligned_) std::free(data_);
    else delete[] data_;
    data_ = nullptr;
    size_ = cap_ = 0;
    aligned_ = false;
  }
  void swap(BigArray& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
    std::swap(aligned_, o.aligned_);
  }
};

/// The bytes of a document: read (a snapshot), never mapped from the file, so a file changed or
/// truncated while it is checked cannot change them.
struct TextBuffer : BigArray<char> {
  using BigArray<char>::BigArray;
  operator std::string_view() const { return {data(), size()}; }  // NOLINT: implicit, as std::string's
};

struct JsonText {
  std::string file;
  TextBuffer text;
  BigArray<Container> index;     // in document order of the opening brackets
  std::uint64_t root = 0;        // where the root value starts
};

}  // namespace detail

namespace {

using nlohmann::json;
using detail::Container;
using detail::JsonText;
constexpr std::uint32_t kNoContainer = UINT32_MAX;

// The two errors the reference parser reports, worded once for both of its passes below.
[[noreturn]] void throw_duplicate_key(const std::string& file, const std::string& path, const std::string& k) {
  throw InputError(file, path + "/" + json_pointer_escape(k), "duplicate key \"" + clip_for_message(k) + "\"");
}

[[noreturn]] void throw_parse_error(const std::string& file, const std::string& where, std::size_t position,
                                    const std::string& last_token, const nlohmann::detail::exception& ex) {
  std::string what = ex.what();
  // nlohmann's messages start with "[json.exception.parse_error.101] parse error at ...".
  if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
  // ... and end with "; last read: '<token>'": the token is shown (clipped) below instead.
  if (auto p = what.find("; last read: "); p != std::string::npos) what.erase(p);
  if (what.find("number overflow") != std::string::npos)
    what += " (a JSON number literal beyond the double range: write it as a string, e.g. \"1e400\", "
            "which is read exactly)";
  throw InputError(file, where.empty() ? "/" : where,
                   "invalid JSON at byte " + std::to_string(position) + " near '" + clip_for_message(last_token) +
                       "': " + clip_for_message(what, 200));
}

// ---------------------------------------------------------------------------------------------
// The reference parser: nlohmann's SAX parser. Used only for invalid input (so the error names
// exactly what it always named) and for JsonNode::raw().
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
    if (open_.back()->contains(k)) throw_duplicate_key(file_, path_here(), k);
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
    throw_parse_error(file_, path_here(), position, last_token, ex);
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

// The same SAX pass without the tree: it keeps only the open containers (their path segment, how
// many values they hold, an object's keys for duplicates), so explaining why a large document is
// invalid costs O(depth + its widest object) memory, not ~17 times the text. Its paths and
// messages are the builder's: the same events, the same counting, the same two throw_ functions.
class ErrorFinder : public nlohmann::json_sax<json> {
 public:
  explicit ErrorFinder(std::string file) : file_(std::move(file)) {}

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t) override { return scalar(); }
  bool number_unsigned(number_unsigned_t) override { return scalar(); }
  bool number_float(number_float_t, const string_t&) override { return scalar(); }
  bool string(string_t&) override { return scalar(); }
  bool binary(binary_t&) override { return scalar(); }
  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    Frame& top = open_.back();
    if (top.keys.count(k)) throw_duplicate_key(file_, path_here(), k);
    top.key = k;
    top.has_key = true;
    return true;
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    throw_parse_error(file_, path_here(), position, last_token, ex);
  }

 private:
  struct Frame {
    bool array = false;
    std::size_t size = 0;          // values inserted so far
    std::string segment;           // this container's path segment in its parent
    std::string key;               // pending key (objects)
    bool has_key = false;
    std::unordered_set<std::string> keys;  // keys inserted so far (objects)
  };
  std::string file_;
  std::vector<Frame> open_;

  std::string path_here() const {
    std::string p;
    for (std::size_t i = 1; i < open_.size(); ++i) p += "/" + open_[i].segment;
    if (!open_.empty()) {
      const Frame& top = open_.back();
      if (top.array) p += "/" + std::to_string(top.size);
      else if (top.has_key) p += "/" + json_pointer_escape(top.key);
    }
    return p;
  }
  // A value is inserted into the innermost open container: its segment there (as the builder's).
  std::string insert() {
    if (open_.empty()) return "";
    Frame& top = open_.back();
    std::string segment;
    if (top.array) {
      segment = std::to_string(top.size);
    } else {
      segment = json_pointer_escape(top.key);
      top.keys.insert(top.key);
      top.has_key = false;
    }
    ++top.size;
    return segment;
  }
  bool scalar() {
    insert();
    return true;
  }
  bool open(bool array) {
    Frame f;
    f.segment = insert();
    f.array = array;
    open_.push_back(std::move(f));
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }
};

// Re-parses invalid text with the reference parser, which throws the exact error.
[[noreturn]] void reference_error(std::string_view text, const std::string& file) {
  ErrorFinder finder(file);
  json::sax_parse(text.begin(), text.end(), &finder, nlohmann::detail::input_format_t::json, /*strict=*/true);
  // The fast validator rejected what the reference accepts: a bug in the validator.
  throw InputError(file, "", "invalid JSON (rejected by the streaming reader but accepted by the reference "
                             "parser: please report this input)");
}

json reference_tree(std::string_view text, const std::string& file) {
  ExactBuilder builder(file);
  json::sax_parse(text.begin(), text.end(), &builder, nlohmann::detail::input_format_t::json, /*strict=*/true);
  return std::move(builder.root);
}

// ---------------------------------------------------------------------------------------------
// The validating pass: RFC 8259 exactly as the reference parser accepts it (strict, byte order
// mark allowed, no comments), duplicate keys rejected, number literals beyond the double range
// rejected. It only says yes or no; a no is explained by the reference parser.

inline bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline std::size_t skip_ws(const char* s, std::size_t n, std::size_t p) {
  while (p < n && is_ws(s[p])) ++p;
  return p;
}

// A string literal at s[p] == '"': advances p past its closing quote. `escaped` says whether it
// holds a backslash (its decoded value then differs from its raw text). Anything beyond
// printable ASCII is checked by the reference parser (UTF-8, escapes, control characters).
bool scan_string(const char* s, std::size_t n, std::size_t& p, bool& escaped) {
  std::size_t q = p + 1;
  bool unusual = false;
  escaped = false;
  for (;;) {
    if (q >= n) return false;
    const auto c = static_cast<unsigned char>(s[q]);
    if (c == '"') break;
    if (c == '\\') {
      escaped = unusual = true;
      q += 2;
      continue;
    }
    if (c < 0x20 || c >= 0x80) unusual = true;
    ++q;
  }
  if (unusual && !json::accept(std::string_view(s + p, q + 1 - p))) return false;
  p = q + 1;
  return true;
}

bool scan_number(const char* s, std::size_t n, std::size_t& p) {
  std::size_t q = p;
  if (s[q] == '-') ++q;
  std::size_t int_from = q;
  if (q < n && s[q] == '0') ++q;
  else if (q < n && s[q] >= '1' && s[q] <= '9')
    while (q < n && is_digit(s[q])) ++q;
  else return false;
  std::size_t int_digits = q - int_from;
  bool exponent = false;
  if (q < n && s[q] == '.') {
    ++q;
    if (q >= n || !is_digit(s[q])) return false;
    while (q < n && is_digit(s[q])) ++q;
  }
  if (q < n && (s[q] == 'e' || s[q] == 'E')) {
    exponent = true;
    ++q;
    if (q < n && (s[q] == '+' || s[q] == '-')) ++q;
    if (q >= n || !is_digit(s[q])) return false;
    while (q < n && is_digit(s[q])) ++q;
  }
  // The reference parser reads such literals as doubles and rejects an infinite one. Without
  // an exponent, up to 300 integer digits is always finite.
  if (exponent || int_digits > 300) {
    std::string copy(s + p, q - p);
    if (!std::isfinite(std::strtod(copy.c_str(), nullptr))) return false;
  }
  p = q;
  return true;
}

bool scan_literal(const char* s, std::size_t n, std::size_t& p, std::string_view word) {
  if (n - p < word.size() || std::memcmp(s + p, word.data(), word.size()) != 0) return false;
  p += word.size();
  return true;
}

std::string decode_string(std::string_view literal) { return json::parse(literal).get<std::string>(); }

bool build_index(JsonText& t) {
  const char* s = t.text.data();
  const std::size_t n = t.text.size();
  std::size_t p = 0;
  if (n > 0 && static_cast<unsigned char>(s[0]) == 0xEF) {
    if (n < 3 || static_cast<unsigned char>(s[1]) != 0xBB || static_cast<unsigned char>(s[2]) != 0xBF) return false;
    p = 3;
  }
  struct Frame {
    std::uint32_t c;
    bool object;
    std::uint32_t count;
    std::size_t keys_from;
  };
  std::vector<Frame> open;
  std::vector<std::string_view> keys;  // keys of the open objects, for duplicates
  std::deque<std::string> decoded;     // storage of keys that held escapes
  constexpr std::size_t kLinearKeys = 32;  // larger objects are checked by sorting, when closed
  auto& index = t.index;
  // Room for one container per 128 bytes (this dataset format has one per ~170): untouched room
  // costs address space only, and a larger text grows the index by doubling.
  index = detail::BigArray<Container>(n / 128 + 16);
  enum class State { Value, After, Key } state = State::Value;
  p = skip_ws(s, n, p);
  t.root = p;
  for (;;) {
    if (state == State::Value) {
      if (p >= n) return false;
      const char c = s[p];
      if (c == '{' || c == '[') {
        if (index.size() >= kNoContainer) return false;
        const bool object = c == '{';
        open.push_back({static_cast<std::uint32_t>(index.size()), object, 0, keys.size()});
        index.push_back(Container{0, 0, 0});
        p = skip_ws(s, n, p + 1);
        if (p < n && s[p] == (object ? '}' : ']')) {
          state = State::After;  // closed below, with no element
          goto close;
        }
        state = object ? State::Key : State::Value;
        continue;
      }
      bool escaped;
      bool ok = c == '"'   ? scan_string(s, n, p, escaped)
                : c == 't' ? scan_literal(s, n, p, "true")
                : c == 'f' ? scan_literal(s, n, p, "false")
                : c == 'n' ? scan_literal(s, n, p, "null")
                           : scan_number(s, n, p);
      if (!ok) return false;
      state = State::After;
    } else if (state == State::Key) {
      if (p >= n || s[p] != '"') return false;
      std::size_t k0 = p;
      bool escaped;
      if (!scan_string(s, n, p, escaped)) return false;
      std::string_view key(s + k0 + 1, p - k0 - 2);
      if (escaped) key = decoded.emplace_back(decode_string(std::string_view(s + k0, p - k0)));
      const Frame& f = open.back();
      if (keys.size() - f.keys_from < kLinearKeys)
        for (std::size_t i = f.keys_from; i < keys.size(); ++i)
          if (keys[i] == key) return false;
      keys.push_back(key);
      p = skip_ws(s, n, p);
      if (p >= n || s[p] != ':') return false;
      p = skip_ws(s, n, p + 1);
      state = State::Value;
    } else {  // After a value
      if (open.empty()) return skip_ws(s, n, p) == n;
      if (open.back().count == kNoContainer - 1) return false;
      ++open.back().count;
      p = skip_ws(s, n, p);
      if (p >= n) return false;
      if (s[p] == ',') {
        p = skip_ws(s, n, p + 1);
        state = open.back().object ? State::Key : State::Value;
        continue;
      }
      if (s[p] != (open.back().object ? '}' : ']')) return false;
    close:
      const Frame f = open.back();
      open.pop_back();
      if (f.object && keys.size() - f.keys_from > kLinearKeys) {
        std::sort(keys.begin() + static_cast<long>(f.keys_from), keys.end());
        if (std::adjacent_find(keys.begin() + static_cast<long>(f.keys_from), keys.end()) != keys.end()) return false;
      }
      keys.resize(f.keys_from);
      index[f.c] = {p + 1, f.count, static_cast<std::uint32_t>(index.size() - f.c - 1)};
      ++p;
      state = State::After;
    }
  }
}

JsonDocument make_document(detail::TextBuffer text, const std::string& file) {
  auto t = std::make_shared<JsonText>();
  t->file = file;
  t->text = std::move(text);
  if (!build_index(*t)) reference_error(t->text, file);
  auto budget = std::make_shared<ExponentBudget>(ExponentBudget::for_input_size(t->text.size()));
  return JsonDocument{file, std::move(t), std::move(budget)};
}

// ---------------------------------------------------------------------------------------------
// Walking validated text.

inline std::size_t string_end(const char* s, std::size_t p) {  // s[p] == '"'
  ++p;
  while (s[p] != '"') p += s[p] == '\\' ? 2 : 1;
  return p + 1;
}

inline std::size_t scalar_end(const char* s, std::size_t n, std::size_t p) {
  if (s[p] == '"') return string_end(s, p);
  while (p < n && s[p] != ',' && s[p] != ']' && s[p] != '}' && !is_ws(s[p])) ++p;
  return p;
}

inline bool is_container(char c) { return c == '[' || c == '{'; }

enum class Num { Int, UInt, Float };

// A number literal's kind as the reference parser stores it: non-negative integers as unsigned,
// negative ones as signed, anything with a fraction or exponent or beyond 64 bits as its text.
Num classify(std::string_view lit, std::int64_t& i, std::uint64_t& u) {
  if (lit.find_first_of(".eE") != std::string_view::npos) return Num::Float;
  if (lit.front() == '-') {
    auto r = std::from_chars(lit.data(), lit.data() + lit.size(), i);
    return r.ec == std::errc() ? Num::Int : Num::Float;
  }
  auto r = std::from_chars(lit.data(), lit.data() + lit.size(), u);
  return r.ec == std::errc() ? Num::UInt : Num::Float;
}

}  // namespace

// The reference parser alone (the reader as it was before issue 13): throws json_parse's
// InputError for invalid text. Declared by the differential test, not in the public header.
void detail_json_parse_reference(std::string_view text, const std::string& file);
void detail_json_parse_reference(std::string_view text, const std::string& file) { reference_tree(text, file); }

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
  detail::TextBuffer b(text.size());
  b.append(text.data(), text.size());
  return make_document(std::move(b), file);
}

std::string_view JsonDocument::bytes() const { return text ? std::string_view(text->text) : std::string_view(); }

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
  // A regular file is read straight into a buffer of its size (no bounce buffer); a pipe, or a
  // file that grew meanwhile, in chunks.
  detail::TextBuffer text(S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) : std::size_t{1} << 16);
  for (;;) {
    if (text.size() == text.capacity()) {
      char buf[1 << 16];
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw InputError(file, "", std::string("error while reading: ") + std::strerror(errno));
      }
      if (r == 0) break;
      text.append(buf, static_cast<std::size_t>(r));
      continue;
    }
    ssize_t r = ::read(fd, text.data() + text.size(), text.capacity() - text.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      throw InputError(file, "", std::string("error while reading: ") + std::strerror(errno));
    }
    if (r == 0) break;
    text.set_size(text.size() + static_cast<std::size_t>(r));
  }
  if (text.empty()) throw InputError(file, "", "empty file (expected a JSON document)");
  return make_document(std::move(text), file);
}

JsonNode JsonNode::root_of(const JsonDocument& doc) {
  const JsonText* t = doc.text.get();
  return JsonNode(t, t->root, is_container(t->text[t->root]) ? 0 : kNoContainer, "", doc.exponent_budget.get());
}

const std::string& JsonNode::file() const { return t_->file; }
bool JsonNode::is_null() const { return t_->text[pos_] == 'n'; }
bool JsonNode::is_object() const { return t_->text[pos_] == '{'; }
bool JsonNode::is_array() const { return t_->text[pos_] == '['; }
bool JsonNode::is_boolean() const { return t_->text[pos_] == 't' || t_->text[pos_] == 'f'; }

const char* JsonNode::kind() const {
  const char* s = t_->text.data();
  switch (s[pos_]) {
    case 'n': return "null";
    case '{': return "an object";
    case '[': return "an array";
    case '"': return "a string";
    case 't':
    case 'f': return "a boolean";
    default: {
      std::int64_t i;
      std::uint64_t u;
      std::string_view lit(s + pos_, scalar_end(s, t_->text.size(), pos_) - pos_);
      (void)classify(lit, i, u);
      return "a number";  // with a fraction or exponent too (they keep their text, as numbers)
    }
  }
}

void JsonNode::locate(std::size_t i, std::uint64_t& pos, std::uint32_t& container) const {
  const char* s = t_->text.data();
  const std::size_t n = t_->text.size();
  std::size_t k, p;
  std::uint32_t c;
  if (cache_pos_ != 0 && cache_i_ <= i) {
    k = cache_i_, p = cache_pos_, c = cache_c_;
  } else {
    k = 0, p = skip_ws(s, n, pos_ + 1), c = c_ + 1;
  }
  for (; k < i; ++k) {
    std::size_t end;
    if (is_container(s[p])) {
      end = t_->index[c].end;
      c += 1 + t_->index[c].inner;
    } else {
      end = scalar_end(s, n, p);
    }
    p = skip_ws(s, n, end);
    p = skip_ws(s, n, p + 1);  // the comma
  }
  cache_i_ = i, cache_pos_ = p, cache_c_ = c;
  pos = p;
  container = is_container(s[p]) ? c : kNoContainer;
}

namespace {
// Calls f(key, value position, value container) for each member of the object at `pos`.
template <class F>
void for_each_member(const JsonText& t, std::uint64_t pos, std::uint32_t container, F f) {
  const char* s = t.text.data();
  const std::size_t n = t.text.size();
  std::uint32_t count = t.index[container].count;
  std::size_t p = skip_ws(s, n, pos + 1);
  std::uint32_t c = container + 1;
  for (std::uint32_t k = 0; k < count; ++k) {
    std::size_t kend = string_end(s, p);
    std::string_view raw(s + p, kend - p);
    std::string decoded;
    std::string_view key = raw.substr(1, raw.size() - 2);
    if (key.find('\\') != std::string_view::npos) key = decoded = decode_string(raw);
    std::size_t v = skip_ws(s, n, skip_ws(s, n, kend) + 1);
    const bool cont = is_container(s[v]);
    if (f(key, v, cont ? c : kNoContainer)) return;
    std::size_t end;
    if (cont) {
      end = t.index[c].end;
      c += 1 + t.index[c].inner;
    } else {
      end = scalar_end(s, n, v);
    }
    p = skip_ws(s, n, skip_ws(s, n, end) + 1);
  }
}
}  // namespace

bool JsonNode::find(std::string_view key, std::uint64_t& pos, std::uint32_t& container) const {
  bool found = false;
  for_each_member(*t_, pos_, c_, [&](std::string_view k, std::uint64_t v, std::uint32_t c) {
    if (k != key) return false;
    pos = v, container = c, found = true;
    return true;
  });
  return found;
}

bool JsonNode::has(std::string_view key) const {
  std::uint64_t p;
  std::uint32_t c;
  return is_object() && find(key, p, c);
}

JsonNode JsonNode::at(std::string_view key) const {
  if (!is_object()) fail(std::string("expected an object, found ") + kind());
  std::uint64_t p;
  std::uint32_t c;
  if (!find(key, p, c))
    throw InputError(file(), path_ + "/" + json_pointer_escape(key), "missing required field \"" + std::string(key) + "\"");
  return JsonNode(t_, p, c, path_ + "/" + json_pointer_escape(key), budget_);
}

JsonNode JsonNode::at(std::size_t i) const {
  if (!is_array()) fail(std::string("expected an array, found ") + kind());
  if (i >= t_->index[c_].count) fail("index " + std::to_string(i) + " out of range");
  std::uint64_t p;
  std::uint32_t c;
  locate(i, p, c);
  return JsonNode(t_, p, c, path_ + "/" + std::to_string(i), budget_);
}

std::size_t JsonNode::array_size() const {
  if (!is_array()) fail(std::string("expected an array, found ") + kind());
  return t_->index[c_].count;
}

std::size_t JsonNode::nonempty_array_size() const {
  std::size_t n = array_size();
  if (n == 0) fail("expected a non-empty array");
  return n;
}

std::vector<std::string> JsonNode::keys() const {
  if (!is_object()) fail(std::string("expected an object, found ") + kind());
  std::vector<std::string> out;
  for_each_member(*t_, pos_, c_, [&](std::string_view k, std::uint64_t, std::uint32_t) {
    out.emplace_back(k);
    return false;
  });
  std::sort(out.begin(), out.end());
  return out;
}

void JsonNode::only_keys(std::initializer_list<std::string_view> allowed) const {
  if (!is_object()) fail(std::string("expected an object, found ") + kind());
  // The reference reader reported the first unknown key in sorted order.
  std::string first;
  bool any = false;
  for_each_member(*t_, pos_, c_, [&](std::string_view k, std::uint64_t, std::uint32_t) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end() && (!any || k < first)) first = k, any = true;
    return false;
  });
  if (any) {
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    throw InputError(file(), path_ + "/" + json_pointer_escape(first),
                     "unknown field \"" + clip_for_message(first) + "\" (expected one of: " + list + ")");
  }
}

// The text a string or number stands for: a string's decoded value (its raw text unless it
// holds escapes), a number's literal. Empty view with `decoded` untouched for anything else.
std::string_view JsonNode::number_or_string_text(std::string& decoded) const {
  const char* s = t_->text.data();
  if (s[pos_] == '"') {
    std::size_t end = string_end(s, pos_);
    std::string_view raw(s + pos_ + 1, end - pos_ - 2);
    if (raw.find('\\') == std::string_view::npos) return raw;
    decoded = decode_string(std::string_view(s + pos_, end - pos_));
    return decoded;
  }
  return std::string_view(s + pos_, scalar_end(s, t_->text.size(), pos_) - pos_);
}

Rational JsonNode::rational() const {
  const char c = t_->text[pos_];
  if (c == '{' || c == '[' || c == 't' || c == 'f' || c == 'n')
    fail(std::string("expected a number (\"p/q\", \"p\" or a decimal), found ") + kind());
  std::string decoded, why;
  std::string_view text = number_or_string_text(decoded);
  auto q = rational_parse(text, &why, budget_);
  if (!q) fail("invalid number \"" + clip_for_message(text) + "\": " + why);
  return std::move(*q);
}

Rational JsonNode::rational_at(std::size_t i) const {
  if (!is_array() || i >= t_->index[c_].count) return at(i).rational();  // the error
  std::uint64_t p;
  std::uint32_t c;
  locate(i, p, c);
  const char ch = t_->text[p];
  if (ch == '"' || ch == '-' || is_digit(ch)) {
    std::string decoded;
    JsonNode probe(t_, p, c, std::string(), budget_);
    // A failed parse spends nothing, so the error path below sees the same budget.
    auto q = rational_parse(probe.number_or_string_text(decoded), nullptr, budget_);
    if (q) return std::move(*q);
  }
  return at(i).rational();  // the error, with its path
}

bool JsonNode::int64_at(std::size_t i, std::int64_t& out) const {
  if (!is_array() || i >= t_->index[c_].count) return false;
  std::uint64_t p;
  std::uint32_t c;
  locate(i, p, c);
  const char* s = t_->text.data();
  const char* end = s + t_->text.size();
  // A string "-?digits" (no escape can hide in it: a backslash ends the digits) is what
  // rational_parse reads as that integer ("007" is 7, "-0" is 0); a JSON number literal is an
  // integer when its digits run up to its delimiter. Anything else (".", "e", "/", beyond
  // 64 bits, another kind of value) declines.
  const bool quoted = s[p] == '"';
  const char* from = s + p + (quoted ? 1 : 0);
  if (*from != '-' && !is_digit(*from)) return false;
  auto r = std::from_chars(from, end, out);
  if (r.ec != std::errc() || r.ptr == end) return false;
  const char d = *r.ptr;
  if (quoted) return d == '"';
  return d == ',' || d == ']' || d == '}' || is_ws(d);
}

namespace {
// "-"? then at least one digit, with a value in int64 (leading zeros allowed: "007" is 7, "-0" is
// 0), at s: true, its value in `out` and s past its last digit. What std::from_chars accepts as
// an int64, the rest of the text aside (tests/json_reader_test.cpp compares the two).
inline bool scan_int64(const char*& s, std::int64_t& out) {
  const bool negative = *s == '-';
  const char* q = s + (negative ? 1 : 0);
  if (!is_digit(*q)) return false;
  // Up to 2^63 / 10, ten times the value plus a digit stays below 2^64: no wraparound; beyond
  // it, one more digit makes at least 2^63 + 2, out of range either way.
  constexpr std::uint64_t kMaxBeforeDigit = (std::uint64_t{1} << 63) / 10;
  std::uint64_t v = 0;
  for (; is_digit(*q); ++q) {
    if (v > kMaxBeforeDigit) return false;
    v = v * 10 + static_cast<std::uint64_t>(*q - '0');
  }
  if (v > (std::uint64_t{1} << 63) - (negative ? 0 : 1)) return false;
  out = negative ? static_cast<std::int64_t>(std::uint64_t{0} - v) : static_cast<std::int64_t>(v);
  s = q;
  return true;
}
}  // namespace

bool JsonNode::int64_row_at(std::size_t i, std::size_t d, std::int64_t* out) const {
  if (!is_array() || i >= t_->index[c_].count) return false;
  std::uint64_t p;
  std::uint32_t c;
  locate(i, p, c);
  if (t_->text[p] != '[' || d == 0) return false;  // d = 0: no row to close with ']' below
  // The text is valid JSON: a literal accepted here is whole when a string's closing quote
  // follows its digits, and a number's digits are followed by blanks, ',' or ']' (int64_at's
  // test: not '.', 'e', 'E'). Then ',' after each of the first d - 1 and ']' after the last
  // make exactly d elements.
  const char* s = t_->text.data() + p + 1;
  for (std::size_t k = 0; k < d; ++k) {
    while (is_ws(*s)) ++s;
    const bool quoted = *s == '"';
    s += quoted ? 1 : 0;
    if (!scan_int64(s, out[k])) return false;
    if (quoted && *s++ != '"') return false;
    while (is_ws(*s)) ++s;
    if (*s++ != (k + 1 < d ? ',' : ']')) return false;
  }
  return true;
}

std::int64_t JsonNode::integer(std::int64_t lo, std::int64_t hi) const {
  const char* s = t_->text.data();
  std::int64_t x = 0;
  std::uint64_t u = 0;
  Num k = Num::Float;
  if (s[pos_] == '-' || is_digit(s[pos_]))
    k = classify(std::string_view(s + pos_, scalar_end(s, t_->text.size(), pos_) - pos_), x, u);
  if (k == Num::Float && (s[pos_] == '-' || is_digit(s[pos_]))) {  // a fraction, exponent, or beyond 64 bits
    std::string text(s + pos_, scalar_end(s, t_->text.size(), pos_) - pos_);
    if (text.find_first_of(".eE") == std::string::npos)
      fail("integer " + clip_for_message(text) + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    fail("expected an integer (a JSON number without fraction or exponent, such as 2), found the number " +
         clip_for_message(text));
  }
  if (k == Num::Float) fail(std::string("expected an integer, found ") + kind());
  if (k == Num::UInt) {
    if (u > static_cast<std::uint64_t>(hi))
      fail("integer out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    x = static_cast<std::int64_t>(u);
  }
  if (x < lo || x > hi) fail("integer " + std::to_string(x) + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

std::string JsonNode::string() const {
  const char c = t_->text[pos_];
  if (c != '"') fail(std::string("expected a string, found ") + kind());
  std::string decoded;
  std::string_view text = number_or_string_text(decoded);
  return decoded.empty() ? std::string(text) : decoded;
}

bool JsonNode::boolean() const {
  if (!is_boolean()) fail(std::string("expected a boolean, found ") + kind());
  return t_->text[pos_] == 't';
}

const nlohmann::json& JsonNode::raw() const {
  if (!raw_) {
    const char* s = t_->text.data();
    std::size_t end = c_ != kNoContainer ? t_->index[c_].end : scalar_end(s, t_->text.size(), pos_);
    raw_ = std::make_shared<json>(reference_tree(std::string_view(s + pos_, end - pos_), file()));
  }
  return *raw_;
}

void JsonNode::fail(const std::string& message) const { throw InputError(file(), path_, message); }

}  // namespace interpcert
