// The web page's files (web/), embedded into keyvad at build time.
//
// embed_web.cmake turns every file under web/ into a byte array; FindWebAsset serves them by
// path, "/" meaning "/index.html". Until web/index.html exists, "/" serves a minimal placeholder
// page that points at the API.
//
// Thread-safety: immutable data; call from any thread.
#pragma once

#include <string_view>

namespace keyva::server {

struct WebAsset {
  std::string_view content_type;
  std::string_view body;
};

// The asset at path, or false when there is none.
bool FindWebAsset(std::string_view path, WebAsset* asset);

}  // namespace keyva::server
