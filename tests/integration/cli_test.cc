// Integration tests of the keyva command-line client against a real keyvad.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {
namespace {

// `keyva ARGS...` running in the background, its stdout read line by line as it prints (through
// a pipe), its stderr kept in a file for the failure message. The destructor kills it if it is
// still running.
class CliProcess {
 public:
  explicit CliProcess(const std::vector<std::string>& args) {
    err_path_ = dir_.path() + "/stderr";
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> storage = {KEYVA_CLI_PATH};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(fds[1], 1);
      int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) dup2(err, 2);
      close(fds[0]);
      close(fds[1]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~CliProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  // The next line printed (without its newline), waiting at most timeout_ms; "" when none came.
  std::string NextLine(int timeout_ms = 30000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      if (size_t nl = buffered_.find('\n'); nl != std::string::npos) {
        std::string line = buffered_.substr(0, nl);
        buffered_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = read(out_, buf, sizeof(buf));
      if (n <= 0) return "";  // it exited
      buffered_.append(buf, static_cast<size_t>(n));
    }
  }

  // Sends sig and waits (at most timeout_ms) for the exit code; -1 when it did not exit.
  int Signal(int sig, int timeout_ms = 30000) {
    kill(pid_, sig);
    return Wait(timeout_ms);
  }
  // Waits (at most timeout_ms) for it to exit by itself; its exit code, or -1.
  int Wait(int timeout_ms = 30000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  std::string Stderr() const {
    std::ifstream in(err_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  TempDir dir_;
  std::string err_path_;
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffered_;
};

// The X-Keyva-Revision of a reply (every reply carries one).
std::string RevisionOf(const HttpReply& r) {
  const std::string rev = r.Header("x-keyva-revision");
  REQUIRE(!rev.empty());
  REQUIRE(rev.find_first_not_of("0123456789") == std::string::npos);
  return rev;
}

// Checks the next line keyva prints, showing its stderr when it differs.
void CheckNextLine(CliProcess& cli, const std::string& expected) {
  const std::string line = cli.NextLine();
  INFO("keyva's stderr: " << cli.Stderr());
  CHECK(line == expected);
}

}  // namespace

TEST_CASE("keyva get/put/del/ls/seq talk to keyvad") {
  KeyvadProcess keyvad({.args = {"--auth-token=tok"}});
  const std::string url = "--url=http://127.0.0.1:" + std::to_string(keyvad.port());
  const std::map<std::string, std::string> env = {{"KEYVA_AUTH_TOKEN", "tok"}};
  TempDir dir;
  const std::string file = dir.path() + "/value.bin";
  const std::string bytes("binary\0bytes\xff", 13);
  {
    std::ofstream out(file, std::ios::binary);
    out << bytes;
  }
  std::string out;
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "put", "files/one", file, "--type=application/x-test"},
                   &out, env) == 0);
  CHECK(out.find("created files/one") != std::string::npos);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "put", "files/two words"}, &out, env, "from stdin") == 0);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "get", "files/one"}, &out) == 0);
  CHECK(out == bytes);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "get", "files/two words"}, &out) == 0);
  CHECK(out == "from stdin");

  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "ls", "files/"}, &out) == 0);
  CHECK(out.find("files/one\t13\tapplication/x-test\t") == 0);
  CHECK(out.find("\nfiles/two words\t10\t") != std::string::npos);

  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "seq", "n"}, &out, env) == 0);
  CHECK(out == "1\n");
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "seq", "n", "--by", "-11"}, &out, env) == 0);
  CHECK(out == "-10\n");

  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "del", "files/one"}, &out, env) == 0);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "get", "files/one"}, &out) == 1);
  CHECK(out.find("HTTP 404") != std::string::npos);
  // Without the token the server refuses the write.
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "del", "files/two words"}, &out) == 1);
  CHECK(out.find("HTTP 401") != std::string::npos);
  // Usage errors and an unreachable server.
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "frobnicate"}, &out) == 2);
  CHECK(RunProgram(KEYVA_CLI_PATH, {"--url=http://127.0.0.1:1", "get", "k"}, &out) == 3);
}

TEST_CASE("keyva watch prints each change once, across a keyvad restart, until SIGINT") {
  TempDir dir;
  auto keyvad =
      std::make_unique<KeyvadProcess>(KeyvadProcess::Options{.data_dir = dir.path() + "/data"});
  const uint16_t port = keyvad->port();
  const std::string url = "--url=http://127.0.0.1:" + std::to_string(port);
  auto c = std::make_unique<HttpTestClient>(port);
  const HttpReply listing = c->Get("/kv/?prefix=w/");
  REQUIRE(listing.status == 200);
  const std::string start = RevisionOf(listing);
  CHECK(listing.Json()["revision"].dump() == start);

  CliProcess watch({url, "watch", "w/", "--since", start});
  const HttpReply a = c->Put("/kv/w/a", "hello", "text/plain");
  REQUIRE(a.status == 201);
  CHECK(a.Json()["revision"].dump() == RevisionOf(a));
  REQUIRE(c->Put("/kv/other/x", "not watched", "text/plain").status == 201);
  const HttpReply spaced = c->Put("/kv/w/b%20c", "abc", "application/x-test");
  const HttpReply counter = c->Send("POST", "/seq/w/n");
  const HttpReply del = c->Delete("/kv/w/a");
  REQUIRE(del.status == 200);

  CheckNextLine(watch, RevisionOf(a) + " put w/a 5 bytes text/plain");
  CheckNextLine(watch, RevisionOf(spaced) + " put \"w/b c\" 3 bytes application/x-test");
  CheckNextLine(watch, RevisionOf(counter) + " counter w/n 1");
  CheckNextLine(watch, RevisionOf(del) + " delete w/a");

  // keyvad restarts on the same directory and port: the stream ends, keyva reconnects with
  // Last-Event-ID, and prints what came after (revisions go on growing), nothing twice.
  c.reset();
  REQUIRE(keyvad->Stop(SIGTERM) == 0);
  keyvad.reset();
  keyvad = std::make_unique<KeyvadProcess>(KeyvadProcess::Options{
      .data_dir = dir.path() + "/data", .args = {"--addr=127.0.0.1:" + std::to_string(port)}});
  c = std::make_unique<HttpTestClient>(port);
  const HttpReply after = c->Put("/kv/w/after-restart", "{}", "application/json");
  REQUIRE(after.status == 201);
  CHECK(std::stoull(RevisionOf(after)) > std::stoull(RevisionOf(del)));
  CheckNextLine(watch, RevisionOf(after) + " put w/after-restart 2 bytes application/json");

  // --json and --key: the events as JSON objects, one per line, for that key only.
  CliProcess json({url, "watch", "--key", "w/after-restart", "--since", start, "--json"});
  const std::string first = json.NextLine();
  nlohmann::json event = nlohmann::json::parse(first, nullptr, false);
  REQUIRE(event.is_object());
  CHECK(event["type"] == "put");
  CHECK(event["key"] == "w/after-restart");
  CHECK(event["revision"].dump() == RevisionOf(after));
  CHECK(event["etag"] == after.Header("etag"));
  CHECK(event["size"] == 2);
  REQUIRE(c->Delete("/kv/w/after-restart").status == 200);
  event = nlohmann::json::parse(json.NextLine(), nullptr, false);
  CHECK(event["type"] == "delete");

  CHECK(watch.NextLine().find(" delete w/after-restart") != std::string::npos);
  CHECK(watch.Signal(SIGINT) == 0);
  CHECK(json.Signal(SIGINT) == 0);
  CHECK(watch.Stderr().find("reconnect") != std::string::npos);
}

TEST_CASE("keyva watch: usage errors exit 2, an unreachable server 3, a bad revision 1") {
  KeyvadProcess keyvad;
  const std::string url = "--url=http://127.0.0.1:" + std::to_string(keyvad.port());
  std::string out;
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "watch", "a/", "--key", "b"}, &out) == 2);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "watch", "--since", "soon"}, &out) == 2);
  CHECK(RunProgram(KEYVA_CLI_PATH, {"--url=http://127.0.0.1:1", "watch"}, &out) == 3);
  // A revision newer than the server's is another server's number: 400, exit 1.
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "watch", "--since", "18446744073709551615"}, &out) == 1);
  CHECK(out.find("HTTP 400") != std::string::npos);
}

TEST_CASE("keyva watch from a revision the feed no longer holds exits 1 naming the oldest") {
  // A window of 10 revisions (a write takes two or three), trimmed every 250 ms.
  KeyvadProcess keyvad({.args = {"--watch-retention=10"}});
  const std::string url = "--url=http://127.0.0.1:" + std::to_string(keyvad.port());
  HttpTestClient c(keyvad.port());
  const std::string start = RevisionOf(c.Get("/kv/?prefix=g/"));
  for (int i = 0; i < 20; i++) {
    REQUIRE(c.Put("/kv/g/" + std::to_string(i), "x").status == 201);
  }
  const std::string poll = "/watch?prefix=g/&since=" + start + "&format=ndjson&wait=0s";
  HttpReply gone;
  for (int i = 0; i < 600 && gone.status != 410; i++) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    gone = c.Get(poll);
  }
  REQUIRE(gone.status == 410);
  const std::string oldest = gone.Json()["oldest"].dump();

  std::string out;
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "watch", "g/", "--since", start}, &out) == 1);
  CHECK(out.find("after revision " + start) != std::string::npos);
  CHECK(out.find("the oldest it holds is " + oldest) != std::string::npos);
  CHECK(out.find("list again") != std::string::npos);
}

}  // namespace keyva::testing
