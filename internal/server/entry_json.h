// EntryJson: a stored value's metadata as the API shows it — in write responses, listings and
// the change feed's put events — built in one place so all three agree.
//
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "internal/engine/value_format.h"

namespace keyva::server {

// {"key","size","content_type","modified" (ISO 8601),"etag"} and "expires" when it has a TTL.
nlohmann::json EntryJson(std::string_view key, uint64_t size, const ValueMeta& meta,
                         const std::string& etag);

// s as a JSON string (quoted and escaped): how error messages name a key, a prefix or a name.
inline std::string JsonQuote(std::string_view s) { return nlohmann::json(s).dump(); }

}  // namespace keyva::server
