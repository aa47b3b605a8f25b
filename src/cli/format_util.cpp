#include "format_util.hpp"

namespace interpcert::cli {

std::string vec_text(const Vec& v) {
  std::string s = "(";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + rational_to_string(v[i]);
  return s + ")";
}

}  // namespace interpcert::cli
