// ETag computation and conditional-request matching; see entity_tag.h.
#include "internal/server/entity_tag.h"

#include <cstdio>

#include "internal/server/header_text.h"

namespace keyva::server {
namespace {

std::string_view Opaque(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return etag.substr(1, etag.size() - 2);
  }
  return etag;
}

// The stored value's part of an opaque tag: up to the coding suffix. Stored tags are hex digits,
// so the first '-' starts the suffix.
std::string_view StoredOpaque(std::string_view opaque) {
  return opaque.substr(0, opaque.find('-'));
}

}  // namespace

std::string EncodedEtag(std::string_view etag, std::string_view coding) {
  std::string out = "\"";
  out.append(StoredOpaque(Opaque(etag))).append("-").append(coding).append("\"");
  return out;
}

std::string_view EtagCoding(std::string_view opaque) {
  size_t dash = opaque.find('-');
  return dash == std::string_view::npos ? std::string_view() : opaque.substr(dash + 1);
}

std::string ComputeEtag(const ValueMeta& meta, std::string_view value) {
  char out[24];
  std::snprintf(out, sizeof(out), "\"%016llx\"",
                static_cast<unsigned long long>(ValueFingerprint(meta, value)));
  return out;
}

bool ParseEtagCondition(std::string_view header, EtagCondition* out) {
  *out = EtagCondition();
  header = TrimOws(header);
  if (header == "*") {
    out->any = true;
    return true;
  }
  while (true) {
    header = TrimOws(header);
    if (header.empty()) return false;
    EtagCondition::Tag tag;
    if (header.substr(0, 2) == "W/") {
      tag.weak = true;
      header.remove_prefix(2);
    }
    if (!header.empty() && header.front() == '"') {
      size_t close = header.find('"', 1);
      if (close == std::string_view::npos) return false;
      tag.opaque = std::string(header.substr(1, close - 1));
      header.remove_prefix(close + 1);
    } else {
      size_t end = header.find(',');
      std::string_view token = TrimOws(header.substr(0, end));
      if (token.empty() || token.find_first_of("\" \t") != std::string_view::npos) return false;
      tag.opaque = std::string(token);
      header = end == std::string_view::npos ? std::string_view() : header.substr(end);
    }
    out->tags.push_back(std::move(tag));
    header = TrimOws(header);
    if (header.empty()) return true;
    if (header.front() != ',') return false;
    header.remove_prefix(1);
  }
}

bool MatchesStrong(const EtagCondition& cond, std::string_view etag) {
  if (cond.any) return true;
  std::string_view want = StoredOpaque(Opaque(etag));
  for (const auto& t : cond.tags) {
    if (!t.weak && StoredOpaque(t.opaque) == want) return true;
  }
  return false;
}

bool MatchesWeak(const EtagCondition& cond, std::string_view etag) {
  if (cond.any) return true;
  std::string_view want = StoredOpaque(Opaque(etag));
  for (const auto& t : cond.tags) {
    if (StoredOpaque(t.opaque) == want) return true;
  }
  return false;
}

}  // namespace keyva::server
