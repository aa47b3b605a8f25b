// Per-phase wall and CPU times of a command on stderr, for the scale benchmark (bench/README.md):
// only when the environment variable INTERPCERT_PHASE_TIMES is set, so normal output is unchanged.
#pragma once

namespace interpcert::cli {

/// Prints "phase NAME: W s wall, C s cpu" for the time since the previous call (or the process's
/// start); CPU is the whole process's (every thread), then the calling (main) thread's
/// own. No-op unless enabled.
void phase_done(const char* name);

}  // namespace interpcert::cli
