// Spawning keyvad for integration tests; see keyvad_process.h.
#include "tests/util/keyvad_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace keyva::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits for pid to exit, polling every poll_ms and calling between_polls (when set) before each
// pause. Returns its wait status, -1 on timeout, -2 if it is not our child.
int WaitFor(pid_t pid, int timeout_ms, int poll_ms = 10,
            const std::function<void()>& between_polls = {}) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -2;
    if (std::chrono::steady_clock::now() > deadline) return -1;
    if (between_polls) between_polls();
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::vector<char*> Argv(const std::string& path, const std::vector<std::string>& args,
                        std::vector<std::string>* storage) {
  storage->clear();
  storage->push_back(path);
  storage->insert(storage->end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : *storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/keyva-it-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

KeyvadProcess::KeyvadProcess(Options options) {
  data_dir_ = options.data_dir.empty() ? dir_.path() + "/data" : options.data_dir;
  log_path_ = dir_.path() + "/keyvad.log";
  const std::string port_file = dir_.path() + "/port";
  std::vector<std::string> args = {"--addr=127.0.0.1:0", "--data-dir=" + data_dir_,
                                   "--port-file=" + port_file, "--threads=2"};
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<std::string> storage;
  std::vector<char*> argv = Argv(KEYVAD_PATH, args, &storage);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    for (const auto& [k, v] : options.env) setenv(k.c_str(), v.c_str(), 1);
    if (options.max_open_files > 0) {
      rlimit lim{static_cast<rlim_t>(options.max_open_files),
                 static_cast<rlim_t>(options.max_open_files)};
      setrlimit(RLIMIT_NOFILE, &lim);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Wait for the port file (written atomically once keyvad listens).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = static_cast<uint16_t>(port);
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("keyvad exited during startup (code " +
                               std::to_string(ExitCode(status)) + "):\n" + Log());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("keyvad did not start listening:\n" + Log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

KeyvadProcess::~KeyvadProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, 10000);
  }
}

std::string KeyvadProcess::Log() const { return ReadFile(log_path_); }

void KeyvadProcess::ReportHang(pid_t pid, int sig, int timeout_ms) const {
  // What it was doing: the end of its log and, where gdb is installed, every thread's stack.
  const std::string log = Log();
  const size_t tail = std::min<size_t>(log.size(), 8192);
  std::cerr << "keyvad (pid " << pid << ") did not exit within " << timeout_ms << " ms of signal "
            << sig << "; the end of its log:\n"
            << log.substr(log.size() - tail) << std::endl;
  if (std::system("command -v gdb >/dev/null 2>&1") == 0) {
    const std::string gdb = "gdb -p " + std::to_string(pid) +
                            " -batch -nx -ex 'thread apply all bt' </dev/null 1>&2 2>/dev/null";
    std::cerr << "its threads:" << std::endl;
    (void)std::system(gdb.c_str());
  }
}

int KeyvadProcess::Stop(int sig, int timeout_ms) { return AwaitStop(sig, timeout_ms, false); }

int KeyvadProcess::StopInsistently(int sig, int timeout_ms) {
  return AwaitStop(sig, timeout_ms, true);
}

int KeyvadProcess::AwaitStop(int sig, int timeout_ms, bool repeat) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  const pid_t pid = pid_;
  int status = repeat ? WaitFor(pid, timeout_ms, 1, [pid, sig] { kill(pid, sig); })
                      : WaitFor(pid, timeout_ms);
  if (status == -1) {
    ReportHang(pid, sig, timeout_ms);
    kill(pid_, SIGKILL);
    WaitFor(pid_, 10000);
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  return ExitCode(status);
}

int RunProgram(const std::string& path, const std::vector<std::string>& args, std::string* output,
               const std::map<std::string, std::string>& env, const std::string& stdin_data) {
  TempDir dir;
  const std::string out_path = dir.path() + "/out";
  const std::string in_path = dir.path() + "/in";
  {
    std::ofstream in(in_path, std::ios::binary);
    in << stdin_data;
  }
  std::vector<std::string> storage;
  std::vector<char*> argv = Argv(path, args, &storage);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open(in_path.c_str(), O_RDONLY);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    if (in >= 0) dup2(in, 0);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = WaitFor(pid, 60000);
  if (status == -1) {
    kill(pid, SIGKILL);
    WaitFor(pid, 10000);
  }
  *output = ReadFile(out_path);
  return status < 0 ? -1 : ExitCode(status);
}

}  // namespace keyva::testing
