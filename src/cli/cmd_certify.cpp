#include "commands.hpp"
#include "pipeline.hpp"

#include "interpcert/atomic_file.hpp"
#include "interpcert/certificate.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/softmax_apriori.hpp"
#include "interpcert/softmax_search.hpp"

#include <iostream>
#include <optional>
#include <sstream>

namespace interpcert::cli {

namespace {
std::string approx(const Rational& q) {
  std::ostringstream s;
  s.precision(3);
  s << q.convert_to<double>();
  return s.str();
}
}  // namespace

Runner add_certify_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("certify", "Construct, verify and write a certificate of exact interpolation.");
  cmd->footer(
      "Checks the hypotheses, builds the transformer, verifies it exactly, and writes a certificate\n"
      "(format interpcert-certificate v1, proofs/certificate-v1.md) that embeds the model and names the\n"
      "dataset by the SHA-256 of its canonical text. Re-check it independently with:\n"
      "    interpcert-check CERT DATASET\n"
      "Exit 0: written. 1: impossible (obstruction) or failed verification. 2: invalid input.\n"
      "3: outside the theorem's hypotheses.");
  struct Opts {
    std::string dataset, output, model_out, beta, epsilon;
    bool softmax = false, exact = false;
    long precision = 256;
    PipelineOptions pipe;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("DATASET", o->dataset, "dataset file (interpcert-dataset JSON)")->required();
  cmd->add_option("-o,--output", o->output, "where to write the certificate")->required();
  cmd->add_option("--model-out", o->model_out, "also write the model on its own");
  add_pipeline_options(cmd, o->pipe);
  cmd->add_flag("--softmax", o->softmax,
                "certify the same weights with softmax attention: a rigorous bound on max |output - target|");
  cmd->add_option("--beta", o->beta, "with --softmax: the inverse temperature (exact rational)");
  cmd->add_option("--epsilon", o->epsilon,
                  "with --softmax: find the least beta (within a factor 1 + 1/16) whose certified bound is <= this");
  cmd->add_flag("--exact", o->exact,
                "with --softmax: append a staircase layer (eta = 0) and certify EXACT interpolation under softmax "
                "at --beta B, or at the least beta found (within a factor 1 + 1/16)");
  cmd->add_option("--precision", o->precision, "with --softmax: starting precision in bits (default 256)")
      ->check(CLI::Range(16L, 1L << 20));
  return [o] {
    if (o->exact && !o->softmax) throw InputError("--exact", "", "--exact needs --softmax");
    if (o->exact && !o->epsilon.empty()) throw InputError("--exact", "", "--exact takes --beta B or no beta, not --epsilon");
    if (o->softmax && !o->exact && o->beta.empty() == o->epsilon.empty())
      throw InputError("--softmax", "", "give exactly one of --beta B and --epsilon E");
    o->pipe.construct.staircase = o->exact;
    if (!o->softmax && !(o->beta.empty() && o->epsilon.empty()))
      throw InputError("--beta/--epsilon", "", "these options need --softmax");
    Dataset ds = dataset_load(o->dataset);
    int status = kExitOk;
    auto built = build_and_verify(ds, o->dataset, o->pipe, std::cout, status);
    if (!built) return status;
    Model m = built->construction.model;
    std::optional<SoftmaxBound> soft;
    if (o->exact) {
      m.attention = AttentionKind::Softmax;
      SoftmaxExactness r;
      if (!o->beta.empty()) {
        m.beta = rational_option("--beta", o->beta);
        r = certify_softmax_exact(m, ds, o->precision, o->pipe.threads);
      } else {
        std::cout << "searching the least beta at which softmax interpolation is certified exact:\n";
        ExactBetaSearch found = find_least_exact_beta(m, ds, o->precision, o->pipe.threads,
                                                      [](const Rational& beta, const SoftmaxExactness& x) {
                                                        std::cout << "  beta = " << rational_to_string(beta) << ": "
                                                                  << (x.exact ? std::string("exact")
                                                                           : std::to_string(x.undecided) + " undecided, " +
                                                                                 std::to_string(x.wrong) + " wrong") << "\n" << std::flush;
                                                      });
        if (!found.found) {
          std::cout << "no beta up to 2^62 certifies exactness; no certificate written\n";
          return static_cast<int>(kExitRefuted);
        }
        m.beta = found.beta;
        r = found.result;
        std::cout << "least beta: " << rational_to_string(found.beta) << " (beta / " << rational_to_string(found.factor)
                  << " does not certify)\n";
      }
      if (!r.exact) {
        std::cout << "softmax, beta = " << rational_to_string(*m.beta) << ": NOT certified exact (" << r.undecided
                  << " output tokens with a neuron of unknown sign, " << r.wrong
                  << " wrong); try a larger beta or omit --beta. No certificate written.\n";
        return static_cast<int>(kExitRefuted);
      }
      std::cout << "claim: EXACT interpolation under softmax at beta = " << rational_to_string(*m.beta) << " ("
                << r.precision << "-bit Arb enclosures; every neuron of the final eta = 0 layer has a known sign on "
                << "every output token's enclosure); L = " << built->stats.blocks
                << " <= the paper's softmax bound 2 sum m_j + 3N = " << paper_softmax_block_bound(ds) << "\n";
      write_file_atomically(o->output,
                            certificate_text_softmax_exact(ds, m, built->stats, built->preconditions, r.precision));
      std::cout << "wrote certificate " << o->output << "\ncheck it independently: interpcert-check " << o->output << " "
                << o->dataset << "\n";
      return static_cast<int>(kExitOk);
    }
    if (o->softmax) {
      // The claim is twice the producer's bound (rounded up): room for an independent checker's
      // own enclosure, which need not be as tight as ours.
      m.attention = AttentionKind::Softmax;
      SoftmaxBound b;
      if (!o->beta.empty()) {
        m.beta = rational_option("--beta", o->beta);
        b = certify_softmax_error(m, ds, o->precision, o->pipe.threads);
      } else {
        Rational eps = rational_option("--epsilon", o->epsilon);
        std::cout << "searching beta for a certified bound <= " << rational_to_string(eps / 2)
                  << " (half of epsilon: the claim keeps a factor 2 for the checker):\n";
        BetaSearch found = find_least_beta(m, ds, eps / 2, o->precision, o->pipe.threads,
                                           [](const Rational& beta, const SoftmaxBound& r) {
                                             std::cout << "  beta = " << rational_to_string(beta) << ": bound "
                                                       << (r.finite ? rational_to_string(r.bound) : "unbounded") << " ("
                                                       << r.precision << " bits)\n" << std::flush;
                                           });
        if (!found.found) {
          std::cout << "no beta up to 2^62 certifies epsilon = " << o->epsilon << "; no certificate written\n";
          return static_cast<int>(kExitRefuted);
        }
        m.beta = found.beta;
        b = found.bound;
        std::cout << "least beta: " << rational_to_string(found.beta) << " (beta / " << rational_to_string(found.factor)
                  << " does not certify)\n";
        Rational claim = round_up_3_digits(b.bound * 2);
        if (claim > eps) claim = eps;
        b.bound = claim;
        soft = b;
      }
      if (!soft) {
        if (!b.finite) {
          std::cout << "softmax: an enclosure is unbounded at " << b.precision << " bits; no certificate written\n";
          return static_cast<int>(kExitRefuted);
        }
        std::cout << "softmax, beta = " << rational_to_string(*m.beta) << ": certified max |output - target| <= "
                  << rational_to_string(b.bound) << " (~" << b.bound.convert_to<double>() << ", Arb balls, "
                  << b.precision << " bits)\n";
        b.bound = round_up_3_digits(b.bound * 2);
        soft = b;
      }
      AprioriBound ap = softmax_a_priori_bound(built->construction.model, ds, *m.beta);
      std::cout << "a-priori bound (proofs/softmax-bound.md, from leader gaps, queries and hat slopes): "
                << (ap.available ? "max |output - target| <= " + rational_to_string(ap.bound) + " (~" +
                                       approx(ap.bound) + ")"
                                 : "not available: " + ap.reason)
                << "\n";
      if (!o->epsilon.empty()) {
        auto need = a_priori_beta(built->construction.model, ds, rational_option("--epsilon", o->epsilon));
        std::cout << "a-priori beta for epsilon: "
                  << (need ? rational_to_string(*need) : std::string("none up to 2^62"))
                  << "\n";
      }
      std::cout << "claim: max |output - target| <= " << rational_to_string(soft->bound) << " (~"
                << soft->bound.convert_to<double>() << ") at beta = " << rational_to_string(*m.beta) << ", "
                << soft->precision << " bits; L = " << built->stats.blocks
                << " <= the paper's softmax bound 2 sum m_j + 3N = " << paper_softmax_block_bound(ds) << "\n";
    }
    write_file_atomically(o->output, certificate_text(ds, m, built->stats, built->preconditions, soft ? &*soft : nullptr));
    if (!o->model_out.empty()) write_file_atomically(o->model_out, model_to_json_text(m));
    if (!soft) std::cout << "claims: H1-H4 hold; exact interpolation of all " << ds.total_outputs()
              << " output tokens; L = " << built->stats.blocks << " <= sum m_j + N = " << construction_block_bound(ds)
              << " <= 2 sum m_j + 2N + 1 = " << paper_hardmax_block_bound(ds) << "; P = " << built->stats.parameters
              << "; |theta|^2 = " << rational_short(built->stats.squared_norm) << "\n";
    std::cout << "wrote certificate " << o->output << "\n"
              << "  dataset digest " << dataset_digest(ds) << "\n"
              << "  model digest   " << model_digest(m) << "\n"
              << "check it independently: interpcert-check " << o->output << " " << o->dataset << "\n";
    return static_cast<int>(kExitOk);
  };
}

}  // namespace interpcert::cli
