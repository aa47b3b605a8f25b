// Private to feed_forward_plan.cpp: a + b for machine fractions whose cross products leave
// __int128 while the reduced sum fits (machine_rational.hpp's checked_add refuses those). At 10^7
// tokens a hat layer's offset sum B (~80- or ~120-bit numerators over ~20- or ~40-bit
// denominators) takes terms w b_j of ~122 bits over ~20 bits: the cross products reach ~147
// bits, yet the reduced sum is back to ~80 bits, or zero (the neurons of a hat cancel). That was
// ~400,000 additions at 10^7 tokens (335 at 10^6), each an exception and a detour through GMP
// rationals. Here the numerator is computed in 256 bits over the lcm of the denominators (GMP's
// mpn layer on four limbs on the stack: no allocation, no gcd of 256-bit numbers) and reduced
// before it is narrowed. Exact: false, and r untouched, where the lcm or the reduced numerator
// does not fit; the caller then keeps the sum in GMP.
#pragma once

#include "machine_rational.hpp"

#include <gmp.h>

namespace interpcert::machine {

static_assert(GMP_NUMB_BITS == 64 && sizeof(mp_limb_t) == 8, "two limbs per __int128");

namespace wide {

inline void limbs_of(u128 x, mp_limb_t out[2]) {
  out[0] = static_cast<mp_limb_t>(x);
  out[1] = static_cast<mp_limb_t>(x >> 64);
}
inline u128 u128_of(mp_limb_t lo, mp_limb_t hi) { return (static_cast<u128>(hi) << 64) | lo; }
inline mp_size_t used(const mp_limb_t* l, mp_size_t n) {
  while (n > 0 && l[n - 1] == 0) --n;
  return n;
}
inline u128 magnitude(i128 x) { return x < 0 ? -static_cast<u128>(x) : static_cast<u128>(x); }

// x y as four limbs.
inline void product(u128 x, u128 y, mp_limb_t out[4]) {
  mp_limb_t a[2], b[2];
  limbs_of(x, a);
  limbs_of(y, b);
  mpn_mul_n(out, a, b, 2);
}

}  // namespace wide

// a + b in lowest terms, for any a, b with d >= 1 (not necessarily reduced: plan_feed_forward's
// terms w s are not).
inline bool add_wide(const Q& a, const Q& b, Q& r) {
  using namespace wide;
  // a + b = (a.n (b.d / g) + b.n (a.d / g)) / D over D = lcm(a.d, b.d) = (a.d / g) b.d, g = gcd(a.d, b.d).
  const u128 g = gcd128(static_cast<u128>(a.d), static_cast<u128>(b.d));
  const u128 a_co = static_cast<u128>(a.d) / g, b_co = static_cast<u128>(b.d) / g;
  u128 D;
  if (__builtin_mul_overflow(a_co, static_cast<u128>(b.d), &D) || (D >> 127) != 0) return false;
  mp_limb_t x[4], y[4], N[4];  // |a.n| b_co, |b.n| a_co, and |numerator|: each below 2^254
  product(magnitude(a.n), b_co, x);
  product(magnitude(b.n), a_co, y);
  bool negative;
  if ((a.n < 0) == (b.n < 0)) {
    mpn_add_n(N, x, y, 4);  // no carry out: below 2^255
    negative = a.n < 0;
  } else if (mpn_cmp(x, y, 4) >= 0) {
    mpn_sub_n(N, x, y, 4);
    negative = a.n < 0;
  } else {
    mpn_sub_n(N, y, x, 4);
    negative = b.n < 0;
  }
  mp_size_t nn = used(N, 4);
  if (nn == 0) {
    r = Q{};
    return true;
  }
  // h = gcd(N, D) = gcd(N mod D, D); then N / h must fit.
  mp_limb_t dl[2];
  limbs_of(D, dl);
  const mp_size_t dn = used(dl, 2);
  u128 rem;
  if (nn < dn) {
    rem = N[0];  // nn == 1, dn == 2: N < D
  } else {
    mp_limb_t quot[4], rl[2] = {0, 0};
    mpn_tdiv_qr(quot, rl, 0, N, nn, dl, dn);
    rem = u128_of(rl[0], rl[1]);
  }
  const u128 h = gcd128(rem, D);
  if (h != 1) {
    mp_limb_t hl[2], quot[4] = {0, 0, 0, 0}, rl[2];
    limbs_of(h, hl);
    const mp_size_t hn = used(hl, 2);  // h <= |N|: hn <= nn
    mpn_tdiv_qr(quot, rl, 0, N, nn, hl, hn);
    nn = used(quot, nn - hn + 1);
    for (mp_size_t i = 0; i < nn; ++i) N[i] = quot[i];
  }
  if (nn > 2 || (nn == 2 && (N[1] >> 63) != 0)) return false;  // |n| >= 2^127
  const u128 m = u128_of(N[0], nn == 2 ? N[1] : 0);
  r.n = negative ? -static_cast<i128>(m) : static_cast<i128>(m);
  r.d = static_cast<i128>(D / h);
  return true;
}

}  // namespace interpcert::machine
