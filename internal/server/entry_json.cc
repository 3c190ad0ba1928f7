// A value's metadata as JSON; see entry_json.h.
#include "internal/server/entry_json.h"

#include "internal/server/http_date.h"

namespace keyva::server {

nlohmann::json EntryJson(std::string_view key, uint64_t size, const ValueMeta& meta,
                         const std::string& etag) {
  nlohmann::json j = {{"key", key},
                      {"size", size},
                      {"content_type", meta.content_type},
                      {"modified", FormatIso8601(meta.modified_us)},
                      {"etag", etag}};
  if (meta.expires_us != 0) j["expires"] = FormatIso8601(meta.expires_us);
  return j;
}

}  // namespace keyva::server
