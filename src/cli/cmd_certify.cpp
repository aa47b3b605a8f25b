#include "certify_model.hpp"
#include "commands.hpp"
#include "float_report.hpp"
#include "heap_prefault.hpp"
#include "malloc_policy.hpp"
#include "phase_times.hpp"
#include "pipeline.hpp"

#include "interpcert/atomic_file.hpp"
#include "interpcert/certificate.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/interpolation_claim.hpp"
#include "interpcert/softmax_search.hpp"

#include <future>
#include <iostream>
#include <optional>
#include <sstream>

namespace interpcert::cli {

namespace {

struct CertifyOptions {
  std::string dataset, output, model_out, beta, epsilon, float_format, model;
  bool softmax = false, exact = false;
  long precision = 256, exp_ulps = 2;
  PipelineOptions pipe;
};

template <class Kind>
std::optional<InterpolationClaim> as_claim(std::optional<Kind> c) {
  if (!c) return std::nullopt;
  return InterpolationClaim(std::move(*c));
}

// The claim the options ask for, established for the constructed weights (progress and any
// failure written to `log`); nullopt if it cannot be established. Hardmax exactness was
// established by build_and_verify's exact verification.
std::optional<InterpolationClaim> establish_claim(const CertifyOptions& o, const std::optional<Rational>& beta,
                                                  const std::optional<Rational>& epsilon, const Model& weights,
                                                  const Dataset& ds, std::ostream& log) {
  const unsigned threads = o.pipe.threads;
  if (!o.float_format.empty())
    return as_claim(FloatBounded::establish(weights, ds, o.float_format, *epsilon, threads, log,
                                            o.softmax ? beta : std::nullopt, o.exp_ulps));
  if (!o.softmax) return ExactHardmax{};
  if (o.exact)
    return beta ? as_claim(SoftmaxExact::at_beta(weights, ds, *beta, o.precision, threads, log))
                : as_claim(SoftmaxExact::search(weights, ds, o.precision, threads, log));
  return beta ? as_claim(SoftmaxBounded::at_beta(weights, ds, *beta, o.precision, threads, log))
              : as_claim(SoftmaxBounded::search(weights, ds, *epsilon, o.precision, threads, log));
}

// The last line of a log (with its "\n").
std::string last_line(const std::string& log) {
  std::size_t end = log.size() && log.back() == '\n' ? log.size() - 1 : log.size();
  std::size_t start = log.rfind('\n', end ? end - 1 : 0);
  return log.substr(start == std::string::npos || end == 0 ? 0 : start + 1) + (end == log.size() ? "\n" : "");
}

}  // namespace

Runner add_certify_command(CommandLine& app) {
  Command cmd = app.subcommand("certify", "Construct, verify and write a certificate of exact interpolation.");
  cmd.footer(
      "Checks the hypotheses, builds the transformer, verifies it exactly, and writes a certificate\n"
      "(format interpcert-certificate v1, proofs/certificate-v1.md) that embeds the model and names the\n"
      "dataset by the SHA-256 of its canonical text. Re-check it independently with:\n"
      "    interpcert-check CERT DATASET\n"
      "Repeated tokens, d = 1 and --causal use proofs/repeated-and-causal.md (claims mask, obstructions).\n"
      "Exit 0: written. 1: impossible (obstruction) or failed verification. 2: invalid input.");
  auto o = std::make_shared<CertifyOptions>();
  cmd.option("DATASET", o->dataset, "dataset file (interpcert-dataset JSON)").required();
  cmd.option("-o,--output", o->output, "where to write the certificate").required();
  cmd.option("--model-out", o->model_out, "also write the certified model (the one the certificate embeds) on its own");
  add_pipeline_options(cmd, o->pipe);
  cmd.flag("--softmax", o->softmax,
           "certify the same weights with softmax attention: a rigorous bound on max |output - target|");
  cmd.option("--beta", o->beta, "with --softmax: the inverse temperature (exact rational)");
  cmd.option("--epsilon", o->epsilon,
             "with --softmax: find the least beta (within a factor 1 + 1/16) whose certified bound is <= this");
  cmd.flag("--exact", o->exact,
           "with --softmax: append a staircase layer (eta = 0) and certify EXACT interpolation under softmax "
           "at --beta B, or at the least beta found (within a factor 1 + 1/16)");
  cmd.option("--precision", o->precision,
             "with --softmax: starting precision in bits, 16 to 32768 (default 256; 32768 = 2^15 is the most a "
             "certificate may ask for, proofs/certificate-v1.md)");
  cmd.option("--float", o->float_format,
             "with --epsilon E: certify that EVERY IEEE round-to-nearest evaluation in this format is within E "
             "(hardmax, or with --softmax --beta B [--exact] the softmax model at B; proofs/float-bound.md)")
      .one_of({"binary64", "binary32"});
  cmd.option("--exp-ulps", o->exp_ulps, std::string("with --float --softmax: ") + exp_ulps_help)
      .range(1L, max_exp_ulps);
  cmd.option("--model", o->model,
             "certify this model instead of constructing one (e.g. from `interpcert import`): hardmax exactly, "
             "softmax with a certified bound (--epsilon E: exit 1 unless it is <= E); if it does not "
             "interpolate, the outputs that miss and by how much, exit 1, no certificate");
  return [o, cmd] {
    if (!o->model.empty()) {
      if (!o->float_format.empty() || o->softmax || o->exact || !o->beta.empty() || o->pipe.construct.max_ff_width)
        throw InputError("--model", "", "--model certifies the model as given (its own attention and beta): "
                                        "--float, --softmax, --exact, --beta and --max-ff-width do not apply");
      return certify_given_model({o->dataset, o->model, o->output, o->model_out, o->epsilon, o->precision,
                                  o->pipe.threads}, std::cout);
    }
    const bool flt = !o->float_format.empty();
    if (flt && (o->epsilon.empty() || o->softmax != !o->beta.empty()))
      throw InputError("--float", "", "--float takes --epsilon E, and --softmax --beta B for a softmax model (no beta search)");
    if (cmd.given("--exp-ulps") && !(flt && o->softmax)) throw InputError("--exp-ulps", "", "needs --float and --softmax");
    if (o->exact && !o->softmax) throw InputError("--exact", "", "--exact needs --softmax");
    if (o->exact && !flt && !o->epsilon.empty()) throw InputError("--exact", "", "--exact takes --beta B or no beta, not --epsilon");
    if (o->softmax && !flt && !o->exact && o->beta.empty() == o->epsilon.empty())
      throw InputError("--softmax", "", "give exactly one of --beta B and --epsilon E");
    if (!o->softmax && o->float_format.empty() && !(o->beta.empty() && o->epsilon.empty()))
      throw InputError("--beta/--epsilon", "", "these options need --softmax");
    if (!o->softmax && cmd.given("--precision")) throw InputError("--precision", "", "needs --softmax");
    if (flt && cmd.given("--precision"))
      throw InputError("--precision", "", "does not apply with --float (the float analysis chooses its own precision)");
    // Not above the cap interpcert-check enforces: certify must not write a certificate its checker refuses.
    if (o->precision < 16 || o->precision > kMaxCertificatePrecision)
      throw InputError("--precision", "", "expected 16 to " + std::to_string(kMaxCertificatePrecision) +
                                              " bits (2^15 is the most a certificate may ask for, "
                                              "proofs/certificate-v1.md), got " + std::to_string(o->precision));
    // Parsed before the construction: a bad number fails at once.
    std::optional<Rational> beta, epsilon;
    if (!o->beta.empty()) beta = rational_option("--beta", o->beta);
    if (!o->epsilon.empty()) epsilon = rational_option("--epsilon", o->epsilon);
    o->pipe.construct.staircase = o->exact;
    check_output_paths({{"--output", o->output}, {"--model-out", o->model_out}}, {o->dataset});
    keep_freed_memory();  // large temporaries reused, not faulted in again (malloc_policy.hpp)
    // The pages of the text, of the tokens and of the construction's first temporaries faulted in
    // on the other core while the input is read (heap_prefault.hpp); done long before the end.
    HeapPrefault prefault(prefault_bytes_for_input(o->dataset));
    Dataset ds = [&] {  // dataset_load, in two phases
      JsonDocument doc = json_load(o->dataset);
      phase_done("read json");
      Dataset read = dataset_from_json(JsonNode::root_of(doc));
      phase_done("dataset from json");
      return read;
    }();
    phase_done("free json");
    // The dataset's digest (a pass over its canonical text) on another thread while the
    // single-threaded preconditions and construction run (deferred to .get() if no thread starts).
    std::future<std::string> dataset_digest_later =
        std::async(std::launch::async | std::launch::deferred, [&ds] { return dataset_digest(ds); });
    int status = kExitOk;
    auto built = build_and_verify(ds, o->dataset, o->pipe, std::cout, status);
    if (!built) return status;
    const Model& weights = built->construction.model;
    std::ostringstream discarded;  // -q: the search's progress goes nowhere; failures still print
    std::optional<InterpolationClaim> claim =
        establish_claim(*o, beta, epsilon, weights, ds, o->pipe.quiet ? discarded : std::cout);
    if (!claim) {
      if (o->pipe.quiet) std::cout << last_line(discarded.str());  // why there is no certificate
      return static_cast<int>(kExitRefuted);
    }
    Model m = claim_model(*claim, std::move(built->construction.model));  // `weights` is not used below
    std::cout << claim_description(*claim, ds, built->stats) << "\n";
    phase_done("claim");
    // Both outputs to their temporaries first: the certificate is not written unless the model is too.
    StagedOutputs out;
    // With --for-float's rescale blocks (short decimals, proofs/float-construction.md) the model may
    // exceed sum m_j + N: block_bound is then stated only if it holds (proofs/certificate-v1.md).
    BlockBounds bounds = std::visit([](const auto& c) { return c.block_bounds(); }, *claim);
    const ConstructionTrace& tr = built->construction.trace;
    if (tr.snap_blocks && built->stats.blocks > construction_block_bound(ds)) {
      bounds.construction = false;
      std::cout << "block_bound not stated: " << tr.snap_blocks
                << " blocks rescale to an integer grid for floating point; L = " << built->stats.blocks
                << " <= sum m_j + N + " << tr.snap_blocks << " = " << construction_block_bound(ds) + tr.snap_blocks << "\n";
    }
    CertificateDigests digests{dataset_digest_later.get(), {}};
    phase_done("dataset digest (wait)");
    out.stage(o->output, [&](TextOutput& file) {
      write_certificate(file, ds, m, built->stats, built->preconditions, *claim, bounds, digests);
    });
    if (!o->model_out.empty()) out.stage(o->model_out, [&](TextOutput& file) { model_write_json(m, file); });
    out.commit();
    phase_done("write outputs");
    std::cout << "wrote certificate " << o->output << "\n"
              << (o->model_out.empty() ? std::string() : "wrote model " + o->model_out + "\n")
              << "  dataset digest " << digests.dataset << "\n"
              << "  model digest   " << digests.model << "\n"
              << "check it independently: interpcert-check " << o->output << " " << o->dataset << "\n";
    keep_until_exit(std::move(ds));  // not freed one number at a time: the process ends now
    keep_until_exit(std::move(m));
    keep_until_exit(std::move(built));
    return static_cast<int>(kExitOk);
  };
}

}  // namespace interpcert::cli
