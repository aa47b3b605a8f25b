// interpcert-check: the independent checker. It reads a certificate and the dataset, recomputes
// every claim with its own code (it shares only the number types and parsers with interpcert),
// prints one line per claim and a verdict. Exit 0: all verified; 1: a claim refuted;
// 2: unreadable input or an unknown major version.
#include "claims.hpp"
#include "phase_times.hpp"
#include "../cli/malloc_policy.hpp"  // allocator settings only: no result depends on them

#include "interpcert/atomic_file.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/gmp_pool.hpp"
#include "interpcert/sha256.hpp"
#include "interpcert/text_util.hpp"
#include "interpcert/verdict.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>
#include <iostream>
#include <string>
#include <thread>

namespace {

using interpcert::clip_for_message;
using interpcert::printable;

const char* kUsageLine =
    "usage: interpcert-check [--threads N] [--shard I/K] [--verdict-out F] [--fast] [--quiet] CERT DATASET\n"
    "       interpcert-check --help | --version\n";

const char* kHelp =
    "\n"
    "Re-verifies an interpcert certificate (proofs/certificate-v1.md) from the certificate and the\n"
    "dataset alone: the dataset and model digests, the hypotheses H1-H4, exact interpolation by its\n"
    "own exact forward pass, the block and parameter counts and |theta|^2.\n"
    "  --threads N      worker threads for the forward pass (0 = all cores, the default; at most\n"
    "                   4096; if the system refuses to start some, the rest do the work)\n"
    "  --shard I/K      check only sequences j with j mod K = I (for splitting a large job; every\n"
    "                   shard's verdict must be VERIFIED for the whole to be)\n"
    "  --verdict-out F  also write the verdict as JSON, for `interpcert merge`\n"
    "  --fast           hardmax: a structured forward pass (one-head attention by argmax/argmin,\n"
    "                   rank-one feed-forward layers tabulated by pieces), tested equal to the plain\n"
    "                   one; for very large certificates. The verdict says it was used.\n"
    "  -q, --quiet      print only the verdict line\n"
    "  -h, --help       this text;  --version  the version\n"
    "Exit status: 0 every claim VERIFIED, 1 a claim REFUTED, 2 unreadable input, unknown version or\n"
    "a bad command line.\n";

// A bad command line: reported with the usage line, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string cert_file, dataset_file, verdict_out;
  unsigned threads = 0;
  std::size_t shard = 0, shards = 1;
  bool quiet = false, fast = false, help = false, version = false;
};

constexpr unsigned kMaxThreads = 4096;

unsigned parse_threads(const std::string& text) {
  bool digits = !text.empty() && text.size() <= 9 &&
                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoul(text) > kMaxThreads)
    throw UsageError("--threads expects an integer from 0 (all cores) to " + std::to_string(kMaxThreads) + ", got \"" +
                     clip_for_message(text) + "\"");
  return static_cast<unsigned>(std::stoul(text));
}

Options parse_options(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") o.help = true;
    else if (a == "--version") o.version = true;
    else if (a == "--fast") o.fast = true;
    else if (a == "--quiet" || a == "-q") o.quiet = true;
    else if (a == "--threads") o.threads = parse_threads(value());
    else if (a == "--verdict-out") o.verdict_out = value();
    else if (a == "--shard") interpcert::parse_shard(value(), o.shard, o.shards);
    else if (a.size() > 1 && a[0] == '-') throw UsageError("unknown option " + clip_for_message(a));
    else positional.push_back(a);
  }
  if (o.help || o.version) return o;
  if (positional.empty()) throw UsageError("missing the CERT and DATASET arguments");
  if (positional.size() == 1) throw UsageError("missing the DATASET argument (after CERT " + clip_for_message(positional[0]) + ")");
  if (positional.size() > 2) throw UsageError("unexpected argument " + clip_for_message(positional[2]) + " (expected CERT DATASET)");
  o.cert_file = positional[0];
  o.dataset_file = positional[1];
  return o;
}

int run(const Options& o) {
  using namespace interpcert;
  unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  check_output_paths({{"--verdict-out", o.verdict_out}}, {o.cert_file, o.dataset_file});
  // As certify: the dataset's document (1.8 GB at 10^7 tokens) is freed after reading and its
  // memory reused by what follows instead of unmapped and faulted in again (10^6 tokens: 81,733
  // -> 36,519 minor faults, peak 362 -> 370 MB).
  cli::keep_freed_memory();
  JsonDocument cert = json_load(o.cert_file);
  checker::phase_done("read certificate");
  Dataset ds = dataset_load(o.dataset_file);
  checker::phase_done("read dataset");
  auto findings = checker::check_certificate(cert, ds, threads, o.shard, o.shards, o.fast);
  const checker::Finding* first_failure = nullptr;
  if (!o.verdict_out.empty()) {
    // What the forward pass actually compared, not what the shard should have covered: `merge`
    // adds these up and requires the total.
    std::size_t outputs = 0;
    for (const auto& f : findings)
      if (f.claim == "interpolation") outputs = f.outputs_checked;
    bool all = true;
    for (const auto& f : findings) all = all && f.verified;
    // dataset_outputs: the whole dataset's sum m_j, what `merge` requires the shards to add up to.
    write_file_atomically(o.verdict_out, verdict_to_json_text({"check", dataset_digest(ds), sha256_hex(cert.bytes()),
                                                               o.shard, o.shards, outputs, all, ds.total_outputs()}));
  }
  checker::phase_done("claims");
  for (const auto& f : findings) {
    // Claim names and details can hold text from the certificate: printed with controls escaped.
    if (!o.quiet)
      std::cout << printable(f.claim) << ": " << (f.verified ? "VERIFIED" : "REFUTED") << " (" << printable(f.detail)
                << ")\n";
    if (!f.verified && !first_failure) first_failure = &f;
  }
  if (first_failure) {
    std::cout << "NOT VERIFIED (first failure: " << printable(first_failure->claim) << ")\n";
    return kExitRefuted;
  }
  std::cout << "VERIFIED (" << count_of(findings.size(), "claim") << (o.fast ? ", structured evaluation --fast" : "")
            << (o.shards > 1 ? ", shard " + std::to_string(o.shard) + "/" + std::to_string(o.shards) : std::string())
            << ")\n";
  return kExitOk;
}

}  // namespace

// The one place that turns errors into messages and exit statuses.
int main(int argc, char** argv) {
  interpcert::install_gmp_limb_pool();  // before any number exists (issue 13)
  using namespace interpcert;
  try {
    Options o = parse_options(argc, argv);
    if (o.help) {
      std::cout << kUsageLine << kHelp;
      return kExitOk;
    }
    if (o.version) {
      std::cout << "interpcert-check " << INTERPCERT_VERSION << " (certificate format v" << checker::kKnownMajorVersion
                << ")\n";
      return kExitOk;
    }
    const int status = run(o);
    checker::phase_done("verdict and cleanup");
    return status;
  } catch (const UsageError& e) {
    std::cerr << "interpcert-check: error: " << printable(e.what()) << "\n" << kUsageLine;
    return kExitInvalidInput;
  } catch (const InputError& e) {
    std::cerr << "interpcert-check: error: " << printable(e.what()) << "\n";
    return kExitInvalidInput;
  } catch (const std::exception& e) {
    std::cerr << "interpcert-check: error: " << printable(e.what()) << "\n";
    return kExitInvalidInput;
  }
}
