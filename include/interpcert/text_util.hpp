// Small text helpers shared by the canonical-text and JSON writers.
#pragma once

#include "interpcert/linalg.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace interpcert {

/// Appends the numbers of v in lowest terms, separated by one space, then "\n".
void append_numbers_line(std::string& out, const Vec& v);
/// The same for n numbers in place (a matrix row), without copying them.
void append_numbers_line(std::string& out, const Rational* v, std::size_t n);
/// Appends [["p/q", ...], ...] for a list of rows.
void append_json_matrix(std::string& out, const std::vector<Vec>& rows);
/// The same for a row-major rows x cols array in place, without copying it.
void append_json_matrix(std::string& out, const Rational* a, std::size_t rows, std::size_t cols);
/// "(p/q, r, ...)" for people. Exact.
std::string vec_text(const Vec& v);
/// "1 block", "3 blocks": a count and its noun, singular for exactly one. `plural` defaults to
/// `singular` + "s".
std::string count_of(std::size_t n, std::string_view singular, std::string_view plural = {});
/// Appends "\"p/q\"".
void append_json_number(std::string& out, const Rational& q);

/// Text from an input made safe for a terminal: control characters (C0 including newline and
/// tab, DEL, and the C1 range U+0080-U+009F written in UTF-8) become "\xNN" / "\u00NN", and a
/// backslash becomes "\\", so a name holding ESC[2J cannot clear the screen or forge a line.
std::string printable(std::string_view text);

}  // namespace interpcert
