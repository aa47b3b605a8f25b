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
    case Applicability::Outside:
      os << "verdict: OUTSIDE THE THEOREM: a hypothesis fails but no obstruction was found;\n"
            "         nothing is proved either way.\n";
      return kExitOutsideTheorem;
  }
  return kExitOutsideTheorem;
}

Runner add_check_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "Decide whether the interpolation theorem applies to a dataset.");
  cmd->footer(
      "Checks the hypotheses H1-H4 and the obstructions O1, O2 exactly, with witnesses.\n"
      "Exit 0: the theorem applies. 1: an obstruction proves interpolation impossible.\n"
      "3: outside the hypotheses, no obstruction found. 2: invalid input.");
  struct Opts {
    std::string file;
    bool quiet = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("DATASET", o->file, "dataset file (interpcert-dataset JSON)")->required();
  cmd->add_flag("-q,--quiet", o->quiet, "print only the verdict");
  return [o] {
    Dataset ds = dataset_load(o->file);
    PreconditionReport rep = check_preconditions(ds);
    if (!o->quiet) {
      std::cout << "dataset: " << o->file << " (" << dataset_summary(ds) << ")\n"
                << "preconditions (decided exactly in rational arithmetic):\n";
      print_precondition_report(rep, std::cout);
    }
    return verdict_exit_status(rep, std::cout);
  };
}

}  // namespace interpcert::cli
