#include "interpcert/text_util.hpp"

namespace interpcert {

void append_numbers_line(std::string& out, const Vec& v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ' ';
    out += rational_to_string(v[i]);
  }
  out += '\n';
}

void append_json_number(std::string& out, const Rational& q) {
  out += '"';
  out += rational_to_string(q);
  out += '"';
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

}  // namespace interpcert
