#include "square_sum.hpp"

#include <algorithm>
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

namespace {

// q without its factors 2, 3, 5, 7, 11 and 13 (a word's worth of q; larger q sort last). Groups
// whose denominators share this part are added next to each other: the sums' denominators then
// share most of their factors, and the pairwise sums stay small (the 337,175 groups of the 10^7-token
// hub model, in a prototype: 2.2 s in increasing order of q, 0.8 s in this order).
unsigned long rough_part(mpz_srcptr q) {
  if (!mpz_fits_ulong_p(q)) return ~0UL;
  unsigned long r = mpz_get_ui(q);
  while (r % 2 == 0) r /= 2;
  for (unsigned long p : {3UL, 5UL, 7UL, 11UL, 13UL})
    while (r % p == 0) r /= p;
  return r;
}

}  // namespace

Rational SumOfSquares::total() const {
  struct Group {
    unsigned long rough;
    const Integer *den, *sum;
  };
  std::vector<Group> groups;
  groups.reserve(by_den_.size());
  for (const auto& [den, sum] : by_den_)
    groups.push_back(Group{rough_part(den.backend().data()), &den, &sum});
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    return a.rough != b.rough ? a.rough < b.rough : mpz_cmp(a.den->backend().data(), b.den->backend().data()) < 0;
  });
  std::vector<Rational> parts;
  parts.reserve(groups.size() + 1);
  parts.emplace_back(integers_);
  for (const Group& g : groups) parts.emplace_back(*g.sum, *g.den * *g.den);
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
