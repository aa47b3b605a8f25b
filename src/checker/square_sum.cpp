#include "square_sum.hpp"

#include <vector>

namespace interpcert::checker {

std::size_t SumOfSquares::Hash::operator()(mpz_srcptr z) const {
  // Denominators are >= 2 here, so the low limb exists; mixed so that even ones spread too.
  const auto v = static_cast<std::uint64_t>(mpz_getlimbn(z, 0));
  return static_cast<std::size_t>((v ^ (v >> 29) ^ mpz_size(z)) * 0x9e3779b97f4a7c15ULL);
}

void SumOfSquares::add(const Rational& x) {
  mpq_srcptr q = x.backend().data();
  mpz_srcptr num = mpq_numref(q), den = mpq_denref(q);
  if (mpz_cmp_ui(den, 1) == 0) {
    mpz_addmul(integers_.backend().data(), num, num);
    return;
  }
  if (!last_den_ || mpz_cmp(last_den_->backend().data(), den) != 0) {
    auto it = by_den_.find(den);
    if (it == by_den_.end()) {
      Integer key;
      mpz_set(key.backend().data(), den);
      it = by_den_.emplace(std::move(key), Integer(0)).first;
    }
    last_den_ = &it->first;  // unordered_map nodes stay where they are
    last_sum_ = &it->second;
  }
  mpz_addmul(last_sum_->backend().data(), num, num);
}

Rational SumOfSquares::total() const {
  std::vector<Rational> parts;
  parts.reserve(by_den_.size() + 1);
  parts.emplace_back(integers_);
  for (const auto& [den, sum] : by_den_) parts.emplace_back(sum, den * den);
  // Pairwise: operands of similar size, O(log) levels instead of one ever-growing sum. The order
  // of the groups does not change the exact result.
  while (parts.size() > 1) {
    std::size_t half = 0;
    for (std::size_t i = 0; i < parts.size(); i += 2)
      parts[half++] = i + 1 < parts.size() ? parts[i] + parts[i + 1] : parts[i];
    parts.resize(half);
  }
  return parts[0];
}

}  // namespace interpcert::checker
