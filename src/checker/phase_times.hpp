// The checker's per-phase wall and CPU times on stderr, for the scale benchmark (bench/README.md):
// only when the environment variable INTERPCERT_PHASE_TIMES is set, so normal output is unchanged.
// Its own copy of src/cli/phase_times (the checker links no code of the rest but src/formats).
#pragma once

namespace interpcert::checker {

/// Prints "phase NAME: W s wall, C s cpu, ..." for the time since the previous call (or the
/// process's start); CPU is the whole process's (every thread). No-op unless enabled.
void phase_done(const char* name);

}  // namespace interpcert::checker
