// The live token set and request identification; see access_control.h.
#include "internal/server/access_control.h"

namespace keyva::server {

AccessControl::AccessControl(const ServerConfig& config) : AccessControl(config, nullptr) {}

AccessControl::AccessControl(const ServerConfig& config,
                             std::shared_ptr<const TokenSet> file_tokens)
    : auth_token_(config.auth_token),
      tokens_file_(file_tokens ? config.tokens_file : std::string()),
      auth_reads_(config.auth_reads),
      enabled_(!config.auth_token.empty() || file_tokens != nullptr) {
  Install(std::move(file_tokens));
}

std::unique_ptr<AccessControl> AccessControl::Open(const ServerConfig& config, std::string* error) {
  std::shared_ptr<const TokenSet> file_tokens;
  if (!config.tokens_file.empty()) {
    file_tokens = TokenSet::Load(config.tokens_file, error);
    if (!file_tokens) return nullptr;
  }
  if (config.auth_reads && config.auth_token.empty() && !file_tokens) {
    *error = "--auth-reads needs --auth-token or --tokens-file (nobody could read otherwise)";
    return nullptr;
  }
  return std::unique_ptr<AccessControl>(new AccessControl(config, std::move(file_tokens)));
}

void AccessControl::Install(std::shared_ptr<const TokenSet> file_tokens) {
  auto set = std::make_shared<TokenSet>();
  if (!auth_token_.empty()) set->AddAllRights("auth-token", auth_token_);
  if (file_tokens) set->AddAll(*file_tokens);
  std::lock_guard<std::mutex> lock(mu_);
  tokens_ = std::move(set);
}

bool AccessControl::Reload(std::string* summary, std::string* error) {
  if (tokens_file_.empty()) {
    *error = "there is no --tokens-file to reload";
    return false;
  }
  std::shared_ptr<const TokenSet> file_tokens = TokenSet::Load(tokens_file_, error);
  if (!file_tokens) return false;
  *summary = std::to_string(file_tokens->size()) + " token" +
             (file_tokens->size() == 1 ? "" : "s") + " from '" + tokens_file_ + "'";
  Install(std::move(file_tokens));
  return true;
}

std::shared_ptr<const TokenSet> AccessControl::tokens() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_;
}

AccessControl::Identity AccessControl::Identify(bool has_header, std::string_view authorization,
                                                std::chrono::system_clock::time_point now) const {
  Identity id;
  if (!has_header) return id;
  id.outcome = Identity::Outcome::kInvalid;
  std::optional<std::string> credential = CredentialFromAuthorization(authorization);
  if (!credential) return id;
  std::shared_ptr<const AccessToken> token = tokens()->Find(*credential);
  if (!token) return id;
  if (token->ExpiredAt(now)) {
    id.outcome = Identity::Outcome::kExpired;
    return id;
  }
  id.outcome = Identity::Outcome::kOk;
  id.token = std::move(token);
  return id;
}

}  // namespace keyva::server
