// KeyvadProcess: runs the real keyvad binary for an integration test.
//
// Each instance starts keyvad on 127.0.0.1 with port 0 (the kernel picks a free port, which
// keyvad writes to --port-file) and a fresh data directory under a private temp directory, so
// tests can run in parallel. stdout/stderr go to a log file, shown by Log() when a test fails.
// The destructor kills a still-running keyvad and removes the temp directory (unless the data
// directory was supplied by the caller).
//
// Thread-safety: one test thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace keyva::testing {

// A private temp directory, removed with its contents when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class KeyvadProcess {
 public:
  struct Options {
    std::string data_dir;                    // empty: a fresh one
    std::vector<std::string> args;           // extra flags
    std::map<std::string, std::string> env;  // extra environment variables
    long max_open_files = 0;                 // >0: RLIMIT_NOFILE for the child
  };

  explicit KeyvadProcess(Options options);
  KeyvadProcess() : KeyvadProcess(Options{}) {}
  ~KeyvadProcess();
  KeyvadProcess(const KeyvadProcess&) = delete;
  KeyvadProcess& operator=(const KeyvadProcess&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string Log() const;

  // Sends sig and waits for the process. Returns its exit code, or 128 + signal when it was
  // killed by a signal. -1 if it did not exit within timeout_ms: its log's end and (with gdb
  // installed) its threads' stacks go to stderr, and it is SIGKILLed.
  int Stop(int sig, int timeout_ms = 30000);
  // Stop(), but sig is sent again every millisecond until the process exits: what an impatient
  // operator or supervisor does.
  int StopInsistently(int sig, int timeout_ms = 30000);

 private:
  int AwaitStop(int sig, int timeout_ms, bool repeat);
  // A stop that timed out: writes the log's end and the threads' stacks to stderr.
  void ReportHang(pid_t pid, int sig, int timeout_ms) const;

  TempDir dir_;
  std::string data_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// Runs a binary to completion with args, capturing its combined output. Returns the exit code.
int RunProgram(const std::string& path, const std::vector<std::string>& args, std::string* output,
               const std::map<std::string, std::string>& env = {},
               const std::string& stdin_data = "");

}  // namespace keyva::testing
