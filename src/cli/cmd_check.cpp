#include "commands.hpp"
#include "pipeline.hpp"

#include "interpcert/errors.hpp"
#include "interpcert/preconditions.hpp"

#include <iostream>

namespace interpcert::cli {

void print_precondition_report(const PreconditionReport& rep, std::ostream& os) { os << precondition_report_text(rep); }

int verdict_exit_status(const PreconditionReport& rep, std::ostream& os) {
  switch (rep.verdict()) {
    case Applicability::Applies:
      os << "verdict: THE THEOREM APPLIES: H1-H4 hold, so an exact interpolating transformer exists\n"
            "         (`interpcert construct` builds one; `interpcert certify` proves it).\n";
      return kExitOk;
    case Applicability::Impossible:
      os << "verdict: INTERPOLATION IS IMPOSSIBLE for every transformer of this class (proof above).\n";
      return kExitRefuted;
    case Applicability::Extended:
      os << "verdict: INTERPOLABLE beyond the paper's hypotheses: no obstruction, so by proofs/repeated-and-causal.md\n"
            "         (Theorem " << (rep.causal ? "2, causal mask" : "1") << ") an exact interpolating transformer exists\n"
            "         (`interpcert construct" << (rep.causal ? " --causal" : "") << "` builds one).\n";
      return kExitOk;
    case Applicability::Outside:
      os << "verdict: OUTSIDE THE THEOREM: a hypothesis fails but no obstruction was found;\n"
            "         nothing is proved either way.\n";
      return kExitOutsideTheorem;
  }
  return kExitOutsideTheorem;
}

Runner add_check_command(CommandLine& app) {
  Command cmd = app.subcommand("check", "Decide whether the interpolation theorem applies to a dataset.");
  cmd.footer(
      "Checks the hypotheses H1-H4 and the obstructions O1, O2 exactly, with witnesses (--causal: the\n"
      "obstruction C1 on reduced prefixes). Every dataset is decided (proofs/repeated-and-causal.md):\n"
      "Exit 0: interpolable (the paper's theorem, or its extension to repeated tokens, d = 1, causal masks).\n"
      "1: an obstruction proves interpolation impossible. 2: invalid input.");
  struct Opts {
    std::string file;
    bool quiet = false;
    bool causal = false;
  };
  auto o = std::make_shared<Opts>();
  cmd.option("DATASET", o->file, "dataset file (interpcert-dataset JSON)").required();
  cmd.flag("-q,--quiet", o->quiet, "print only the verdict");
  cmd.flag("--causal", o->causal, "decide for causal (decoder-only) attention: position i sees 0 ... i");
  return [o] {
    Dataset ds = dataset_load(o->file);
    PreconditionReport rep = check_preconditions(ds, o->causal);
    if (!o->quiet) {
      std::cout << "dataset: " << o->file << " (" << dataset_summary(ds) << ")\n"
                << "preconditions (decided exactly in rational arithmetic):\n";
      print_precondition_report(rep, std::cout);
    }
    return verdict_exit_status(rep, std::cout);
  };
}

}  // namespace interpcert::cli
