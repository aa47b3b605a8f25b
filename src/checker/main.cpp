// interpcert-check: the independent checker. It reads a certificate and the dataset, recomputes
// every claim with its own code (it shares only the number types and parsers with interpcert),
// prints one line per claim and a verdict. Exit 0: all verified; 1: a claim refuted;
// 2: unreadable input or an unknown major version.
#include "claims.hpp"

#include "interpcert/atomic_file.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/gmp_pool.hpp"
#include "interpcert/sha256.hpp"
#include "interpcert/text_util.hpp"
#include "interpcert/verdict.hpp"

#include <fstream>
#include <sstream>

#include <cstring>
#include <iostream>
#include <string>
#include <thread>

namespace {

const char* kUsage =
    "usage: interpcert-check CERT DATASET [--threads N] [--shard I/K] [--quiet]\n"
    "\n"
    "Re-verifies an interpcert certificate (proofs/certificate-v1.md) from the certificate and the\n"
    "dataset alone: the dataset and model digests, the hypotheses H1-H4, exact interpolation by its\n"
    "own exact forward pass, the block and parameter counts and |theta|^2.\n"
    "  --threads N   worker threads for the forward pass (default: all cores)\n"
    "  --shard I/K   check only sequences j with j mod K = I (for splitting a large job; every\n"
    "                shard's verdict must be VERIFIED for the whole to be)\n"
    "  --verdict-out F  also write the verdict as JSON, for `interpcert merge`\n"
    "  --fast        hardmax: a structured forward pass (one-head attention by argmax/argmin,\n"
    "                rank-one feed-forward layers tabulated by pieces), tested equal to the plain\n"
    "                one; for very large certificates. The verdict says it was used.\n"
    "  --quiet       print only the verdict line\n"
    "Exit status: 0 every claim VERIFIED, 1 a claim REFUTED, 2 unreadable input or unknown version.\n";

}  // namespace

int main(int argc, char** argv) {
  interpcert::install_gmp_limb_pool();  // before any number exists (issue 13)
  using namespace interpcert;
  std::string cert_file, dataset_file;
  unsigned threads = std::thread::hardware_concurrency();
  std::size_t shard = 0, shards = 1;
  bool quiet = false, fast = false;
  std::string verdict_out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--fast") {
      fast = true;
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (a == "--threads" && i + 1 < argc) {
      threads = static_cast<unsigned>(std::stoul(argv[++i]));
    } else if (a == "--verdict-out" && i + 1 < argc) {
      verdict_out = argv[++i];
    } else if (a == "--shard" && i + 1 < argc) {
      std::string v = argv[++i];
      auto slash = v.find('/');
      try {
        if (slash == std::string::npos) throw std::invalid_argument(v);
        shard = std::stoul(v.substr(0, slash));
        shards = std::stoul(v.substr(slash + 1));
      } catch (const std::exception&) {
        shards = 0;
      }
      if (shards == 0 || shard >= shards) {
        std::cerr << "interpcert-check: --shard expects I/K with 0 <= I < K\n";
        return kExitInvalidInput;
      }
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "interpcert-check: unknown option " << a << "\n" << kUsage;
      return kExitInvalidInput;
    } else if (cert_file.empty()) {
      cert_file = a;
    } else if (dataset_file.empty()) {
      dataset_file = a;
    } else {
      std::cerr << kUsage;
      return kExitInvalidInput;
    }
  }
  if (dataset_file.empty()) {
    std::cerr << kUsage;
    return kExitInvalidInput;
  }
  try {
    JsonDocument cert = json_load(cert_file);
    Dataset ds = dataset_load(dataset_file);
    auto findings = checker::check_certificate(cert, ds, threads ? threads : 1, shard, shards, fast);
    const checker::Finding* first_failure = nullptr;
    if (!verdict_out.empty()) {
      std::ifstream in(cert_file, std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      // What the forward pass actually compared, not what the shard should have covered: `merge`
      // adds these up and requires the total.
      std::size_t outputs = 0;
      for (const auto& f : findings)
        if (f.claim == "interpolation") outputs = f.outputs_checked;
      bool all = true;
      for (const auto& f : findings) all = all && f.verified;
      write_file_atomically(verdict_out, verdict_to_json_text({"check", dataset_digest(ds), sha256_hex(bytes.str()), shard,
                                                               shards, outputs, all}));
    }
    for (const auto& f : findings) {
      // Claim names and details can hold text from the certificate: printed with controls escaped.
      if (!quiet)
        std::cout << printable(f.claim) << ": " << (f.verified ? "VERIFIED" : "REFUTED") << " (" << printable(f.detail)
                  << ")\n";
      if (!f.verified && !first_failure) first_failure = &f;
    }
    if (first_failure) {
      std::cout << "NOT VERIFIED (first failure: " << printable(first_failure->claim) << ")\n";
      return kExitRefuted;
    }
    std::cout << "VERIFIED (" << findings.size() << " claims" << (fast ? ", structured evaluation --fast" : "")
              << (shards > 1 ? ", shard " + std::to_string(shard) + "/" + std::to_string(shards) : std::string()) << ")\n";
    return kExitOk;
  } catch (const InputError& e) {
    std::cerr << "interpcert-check: error: " << printable(e.what()) << "\n";
    return kExitInvalidInput;
  } catch (const std::exception& e) {
    std::cerr << "interpcert-check: error: " << printable(e.what()) << "\n";
    return kExitInvalidInput;
  }
}
