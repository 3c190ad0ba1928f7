// Process probes for the load and crash tests: the open-file limit and memory figures of a
// process, read from /proc.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace keyva::testing {

// Raises this process's soft RLIMIT_NOFILE to min(wanted, hard limit) when it is below wanted.
// Returns the soft limit in force afterwards.
long RaiseOpenFileLimit(long wanted);

// A "Name:   value kB" field of /proc/PID/status (VmHWM = peak RSS, VmRSS = current RSS) in KiB;
// -1 when the process or the field does not exist.
long ProcStatusKiB(pid_t pid, const std::string& field);

}  // namespace keyva::testing
