// Process probes; see process_probe.h.
#include "tests/util/process_probe.h"

#include <sys/resource.h>

#include <fstream>
#include <sstream>

namespace keyva::testing {

long RaiseOpenFileLimit(long wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return -1;
  if (lim.rlim_cur != RLIM_INFINITY && static_cast<long>(lim.rlim_cur) < wanted) {
    rlim_t target = static_cast<rlim_t>(wanted);
    if (lim.rlim_max != RLIM_INFINITY && target > lim.rlim_max) target = lim.rlim_max;
    lim.rlim_cur = target;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur == RLIM_INFINITY ? wanted : static_cast<long>(lim.rlim_cur);
}

long ProcStatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::string prefix = field + ":";
  while (std::getline(in, line)) {
    if (line.compare(0, prefix.size(), prefix) != 0) continue;
    std::istringstream rest(line.substr(prefix.size()));
    long kib = -1;
    rest >> kib;
    return kib;
  }
  return -1;
}

}  // namespace keyva::testing
