// The audit trail of writes and deletes; see audit_log.h.
#include "internal/server/audit_log.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace keyva::server {

std::unique_ptr<AuditLog> AuditLog::Open(const std::string& path, bool to_log, std::string* error) {
  if (path.empty()) return std::unique_ptr<AuditLog>(new AuditLog(nullptr, to_log));
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) {
    *error = "cannot open the audit log '" + path + "': " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<AuditLog>(new AuditLog(file, false));
}

AuditLog::~AuditLog() {
  if (file_ != nullptr) std::fclose(file_);
}

std::string AuditLog::FormatLine(std::string_view token, std::string_view method,
                                 std::string_view route, std::string_view key, unsigned status,
                                 std::string_view etag) {
  const std::string quoted = nlohmann::json(std::string(key))
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string line = "audit token=";
  line += token.empty() ? "-" : token;
  line += " method=";
  line += method;
  line += " route=";
  line += route;
  line += " key=";
  line += quoted;
  line += " status=" + std::to_string(status) + " etag=";
  line += etag.empty() ? "-" : etag;
  return line;
}

void AuditLog::Record(std::string_view token, std::string_view method, std::string_view route,
                      std::string_view key, unsigned status, std::string_view etag) {
  if (!enabled()) return;
  const std::string line = FormatLine(token, method, route, key, status, etag);
  if (file_ == nullptr) {
    spdlog::info("{}", line);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::fputs(line.c_str(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);
}

}  // namespace keyva::server
