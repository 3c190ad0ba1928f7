// Process probes for the load and crash tests: the open-file limit, memory and CPU figures of a
// process and the state of a TCP connection, read from /proc.
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

// The CPU time (user + system) the process has used so far, in seconds; -1 when it does not
// exist.
double ProcCpuSeconds(pid_t pid);

// The state of the IPv4 TCP socket bound to 127.0.0.1:local_port and connected to
// 127.0.0.1:remote_port, as /proc/net/tcp gives it (1 ESTABLISHED, 4 FIN_WAIT1, 7 CLOSE, 8
// CLOSE_WAIT...); -1 when there is no such socket. Seen from the server's port, it tells whether
// the server still holds a connection open without reading from the client's side of it.
int TcpState(uint16_t local_port, uint16_t remote_port);

}  // namespace keyva::testing
