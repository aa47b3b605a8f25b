#include "interpcert/text_util.hpp"

namespace interpcert {

void append_numbers_line(std::string& out, const Vec& v) { append_numbers_line(out, v.data(), v.size()); }

void append_numbers_line(std::string& out, const Rational* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ' ';
    append_rational(out, v[i]);
  }
  out += '\n';
}

void append_json_number(std::string& out, const Rational& q) {
  out += '"';
  append_rational(out, q);
  out += '"';
}

std::string count_of(std::size_t n, std::string_view singular, std::string_view plural) {
  std::string s = std::to_string(n) + " ";
  if (n == 1) return s.append(singular);
  return plural.empty() ? s.append(singular).append("s") : s.append(plural);
}

std::string vec_text(const Vec& v) {
  std::string s = "(";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    append_rational(s, v[i]);
  }
  return s + ")";
}

void append_json_matrix(std::string& out, const Rational* a, std::size_t rows, std::size_t cols) {
  out += '[';
  for (std::size_t i = 0; i < rows; ++i) {
    out += i ? ", [" : "[";
    for (std::size_t j = 0; j < cols; ++j) {
      if (j) out += ", ";
      append_json_number(out, a[i * cols + j]);
    }
    out += ']';
  }
  out += ']';
}

void append_json_matrix(std::string& out, const std::vector<Vec>& rows) {
  out += '[';
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out += i ? ", [" : "[";
    for (std::size_t j = 0; j < rows[i].size(); ++j) {
      if (j) out += ", ";
      append_json_number(out, rows[i][j]);
    }
    out += ']';
  }
  out += ']';
}

std::string printable(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      auto d = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += hex[d >> 4];
      out += hex[d & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace interpcert
