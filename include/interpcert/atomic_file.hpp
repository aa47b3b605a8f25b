// Writing outputs all-or-nothing: each to a temporary file in its target's folder, renamed onto
// the target only when every output of the command has been written.
#pragma once

#include "interpcert/text_output.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace interpcert {

/// The outputs of one command, written together. stage() writes an output to a temporary file
/// beside its target ("TARGET.tmp.XXXXXX": created, written, fsync'd) and throws
/// std::runtime_error naming the target if it cannot (a missing folder, a full disk); commit()
/// renames every staged file onto its target. Destroyed without commit() (an error, an exception)
/// it removes its temporaries; a SIGINT, SIGTERM or SIGHUP removes them too, then ends the
/// process by that signal. So either every output is written or none is changed.
class StagedOutputs {
 public:
  StagedOutputs() = default;
  StagedOutputs(const StagedOutputs&) = delete;
  StagedOutputs& operator=(const StagedOutputs&) = delete;
  ~StagedOutputs();

  void stage(const std::string& path, std::string_view content);
  /// The same for an output produced piece by piece: `produce` writes it to a TextOutput that
  /// goes to the temporary file as it is produced (through a 1 MiB buffer; overwrite() writes
  /// into the file), so it is never held whole. An exception from `produce` propagates and the
  /// temporary is removed when this object is destroyed, as for any failed stage().
  void stage(const std::string& path, const std::function<void(TextOutput&)>& produce);
  /// Renames every staged file onto its target, in the order staged.
  void commit();

 private:
  struct Staged {
    std::string target, temp;
    int slot;  // in the signal handler's registry, or -1
  };
  std::vector<Staged> staged_;
};

/// One output written atomically: StagedOutputs with a single stage() and commit().
void write_file_atomically(const std::string& path, std::string_view content);
/// The same for an output produced piece by piece (StagedOutputs::stage with `produce`).
void write_file_atomically(const std::string& path, const std::function<void(TextOutput&)>& produce);

/// Checks a command's outputs before it starts work, and throws InputError naming the option for
/// an output that would overwrite an input (same device and inode as an existing input; an output
/// that does not exist yet cannot be one) or another output (the same path), that is a folder or
/// another file that is not a regular file (a device such as /dev/null, a pipe: the rename would
/// replace it; stage() refuses them too), or whose folder does not exist. `outputs` are (option, path) pairs; empty paths (an option not
/// given) are skipped. Staging still guards the writes themselves: this only fails early.
void check_output_paths(const std::vector<std::pair<std::string, std::string>>& outputs,
                        const std::vector<std::string>& inputs);

}  // namespace interpcert
