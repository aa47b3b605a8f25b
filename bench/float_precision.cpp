// bench/float_precision: for the families of issue 10, the precision needed and the certified
// binary64/binary32 error of the constructed model, without and with --for-float, next to the
// measured error of a plain double/float evaluation (tests/float_oracle.hpp: forward order and FMA).
// Usage: float_precision [--quick] [--no-precision] [--for-float-only] [--digits K] [--n N] [--d D]
//                        [binary64|binary32]... [family]...
// (--n N: every family with N sequences; all subsets stays at the 31 subsets of its pool)
// (--d D: tokens in R^D, default 2; the family's shape is the same, tests/float_families.hpp)
// (--digits K: short-decimal coordinates with K decimals, |x| <= the same R: tests/float_families.hpp)
// (a markdown table; bench/README.md; FLOAT_PRECISION_DUMP=DIR also writes each dataset there)
#include "float_families.hpp"
#include "float_oracle.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/float_bound.hpp"
#include "interpcert/preconditions.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>

using namespace interpcert;
using namespace interpcert::testing;

namespace {

bool g_search = true;  // --no-precision: skip the precision search (slow on the large-N rows)
int g_digits = 0;      // --digits K: K decimals
bool g_robust_only = false;  // --for-float-only: skip the default construction (and the no-prefix one)
std::size_t g_n = 0;   // --n N: N sequences in every family (0: 20 with --quick, 100, large-N 1,000/100)
std::size_t g_d = 2;   // --d D: dimension

struct Row {
  std::string status;  // "ok" or the reason
  long p_needed = 0;  // 0: not searched (--no-precision), -1: more than 1024 bits
  Rational rel;
  double measured = 0;  // plain float evaluation, relative, max over forward and FMA orders
};

template <typename F>
double measured_error(const Model& m, const Dataset& ds, const FloatFormat& f) {
  g_rounded.clear();
  double worst = 0;
  for (Order o : {Order::Forward, Order::Fma})
    for (const auto& s : ds.sequences) {
      auto out = float_eval<F>(m, s.input, f, o, false);
      for (std::size_t k = 0; k < s.output.size(); ++k) {
        double tmax = 1;
        for (const auto& y : s.output[k]) tmax = std::max(tmax, std::abs(y.convert_to<double>()));
        for (std::size_t c = 0; c < s.output[k].size(); ++c) {
          F v = out[s.positions[k]][c];
          double e = std::isfinite(static_cast<double>(v))
                         ? std::abs((Rational(static_cast<double>(v)) - s.output[k][c]).convert_to<double>()) / tmax
                         : INFINITY;
          worst = std::max(worst, e);
        }
      }
    }
  return worst;
}

Row measure(const Model& m, const Dataset& ds, const FloatFormat& f, const Rational& eps) {
  Row r;
  FloatBound b = float_error_bound(m, ds, f, f.p);
  r.status = b.ok() ? "ok" : (b.status == FloatBound::Status::Unstable ? "unstable" : "overflow");
  r.rel = b.ok() ? b.relative : Rational(-1);
  if (g_search) {
    PrecisionNeeded need = float_precision_needed(m, ds, f, eps, true, 0, 1024);
    r.p_needed = need.bits ? *need.bits : -1;
  }
  r.measured = f.p == 53 ? measured_error<double>(m, ds, f) : measured_error<float>(m, ds, f);
  return r;
}

std::string cell(const Row& r) {
  if (r.status.empty()) return "- | - | -";  // not measured (--for-float-only)
  char buf[160];
  std::string need = r.p_needed > 0 ? std::to_string(r.p_needed) : r.p_needed == 0 ? "-" : ">1024";
  std::string bound = r.status == "ok" ? rational_approx(r.rel) : r.status;
  std::snprintf(buf, sizeof buf, "%s | %s | %.2e", need.c_str(), bound.c_str(), r.measured);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<std::string> names, formats;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("Usage: float_precision [--quick] [--no-precision] [--for-float-only] [--digits K] [--n N] [--d D]\n"
                  "                       [binary64|binary32]... [FAMILY]...\n"
                  "Families:");
      for (const auto& f : kFloatFamilies) std::printf(" %s", f.c_str());
      std::printf("\nbench/README.md explains the columns; bench/float_precision.md has the results.\n");
      return 0;
    }
    if (a == "--quick") quick = true;
    else if (a == "--no-precision") g_search = false;
    else if (a == "--digits" && i + 1 < argc) g_digits = std::atoi(argv[++i]);
    else if (a == "--for-float-only") g_robust_only = true;
    else if (a == "--n" && i + 1 < argc) g_n = static_cast<std::size_t>(std::atol(argv[++i]));
    else if (a == "--d" && i + 1 < argc) g_d = std::max<std::size_t>(2, static_cast<std::size_t>(std::atol(argv[++i])));
    else if (a == "binary64" || a == "binary32") formats.push_back(a);
    else if (std::find(kFloatFamilies.begin(), kFloatFamilies.end(), a) != kFloatFamilies.end()) names.push_back(a);
    else {
      std::fprintf(stderr, "float_precision: unknown argument '%s' (--help lists the options and families)\n", a.c_str());
      return 2;
    }
  }
  if (names.empty()) names = kFloatFamilies;
  if (formats.empty()) formats = {"binary64", "binary32"};
  if (g_digits)  // one more group: --for-float without the rescale prefix (the construction before it)
    std::printf("| family | format | N | blocks (default / for-float) | p needed | certified rel. bound | measured rel. error "
                "| p needed (for-float, no prefix) | certified (no prefix) | measured (no prefix) "
                "| p needed (for-float) | certified (for-float) | measured (for-float) |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  else
    std::printf("| family | format | N | blocks (default / for-float) | p needed | certified rel. bound | measured rel. error "
                "| p needed (for-float) | certified (for-float) | measured (for-float) |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& fname : formats) {
    const FloatFormat f = *float_format(fname);
    const int fi = fname == "binary64" ? 0 : 1;
    const long R = fi == 0 ? 1000000 : 100;
    const Rational eps = fi == 0 ? Rational(1, 1000000) : Rational(1, 100);
    for (const auto& name : names) {
      std::size_t N = name == "large-N" ? (fi == 0 ? 1000 : 100) : (quick ? 20 : 100);
      if (g_n) N = g_n;
      std::mt19937_64 rng(42);
      Dataset ds = g_digits ? decimal_family(name, rng, N, R, g_digits, g_d) : float_family(name, rng, N, R, g_d);
      if (const char* dir = std::getenv("FLOAT_PRECISION_DUMP")) {  // the datasets, to rerun with the CLI
        std::string path = std::string(dir) + "/" + name + (g_digits ? "-dec" + std::to_string(g_digits) : "") +
                           (g_d != 2 ? "-d" + std::to_string(g_d) : "") + "-" + f.name + ".json";
        if (FILE* fp = std::fopen(path.c_str(), "w")) {
          std::fputs(dataset_to_json_text(ds).c_str(), fp);
          std::fclose(fp);
        }
      }
      auto t0 = std::chrono::steady_clock::now();
      // --for-float-only: the default construction is skipped (its columns print "-" and 0 blocks).
      Construction plain = g_robust_only ? Construction{} : construct_model(ds);
      ConstructOptions ff;
      ff.for_float = true;
      ff.float_bits = f.p;
      Construction robust = construct_model(ds, ff);
      Row a = g_robust_only ? Row{} : measure(plain.model, ds, f, eps), b = measure(robust.model, ds, f, eps);
      std::string before_prefix;  // --digits: the float construction without the rescale prefix
      if (g_digits && g_robust_only) before_prefix = " - | - | - |";
      else if (g_digits) {
        ff.rescale_prefix = false;
        Construction np = construct_model(ds, ff);
        before_prefix = " " + cell(measure(np.model, ds, f, eps)) + " |";
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("| %s%s | %s | %zu | %zu / %zu | %s |%s %s |\n", name.c_str(),
                  g_digits ? (" (" + std::to_string(g_digits) + " dec.)").c_str() : "", f.name.c_str(), ds.sequences.size(),
                  plain.model.blocks.size(), robust.model.blocks.size(), cell(a).c_str(), before_prefix.c_str(),
                  cell(b).c_str());
      std::fflush(stdout);
      std::fprintf(stderr, "%s %s: %.1f s\n", name.c_str(), f.name.c_str(), secs);
    }
  }
  std::printf("\np needed: least significand bits for which the analysis certifies max error / max(1, |target|) <= "
              "1e-6 (binary64 rows) or 1e-2 (binary32 rows), exponent range of the format; certified: the bound at the "
              "format's p (relative); measured: a plain evaluation in double/float (forward and FMA orders).\n");
}
