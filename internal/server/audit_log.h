// AuditLog: one line per write and delete, naming who did it (--audit-log).
//
// Each line: "audit token=NAME method=PUT route=kv key=\"KEY\" status=201 etag=\"...\"", the key
// JSON-quoted (so any byte is readable and a line is one line); token=- when no token was
// needed and none given; etag=- when the response carries none (a delete, a refusal, a counter).
// The ETag is the value's after the write: the one before is not read, which would cost a
// lookup per write.
//
// Lines go to FILE (appended, flushed per line) when --audit-log is set, else to the server log
// at info level when a token is configured; with neither, writes are not audited.
//
// Thread-safety: Record may be called from any thread (the storage thread completes writes).
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace keyva::server {

class AuditLog {
 public:
  // Opens path for appending ("" : the server log when to_log, else off). nullptr and *error when
  // the file cannot be opened.
  static std::unique_ptr<AuditLog> Open(const std::string& path, bool to_log, std::string* error);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  bool enabled() const { return file_ != nullptr || to_log_; }

  // route: "kv" or "seq"; token: the token's name, or "" for none.
  void Record(std::string_view token, std::string_view method, std::string_view route,
              std::string_view key, unsigned status, std::string_view etag);

  // The line Record writes (without the newline).
  static std::string FormatLine(std::string_view token, std::string_view method,
                                std::string_view route, std::string_view key, unsigned status,
                                std::string_view etag);

 private:
  AuditLog(std::FILE* file, bool to_log) : file_(file), to_log_(to_log) {}

  std::mutex mu_;
  std::FILE* const file_;
  const bool to_log_;
};

}  // namespace keyva::server
