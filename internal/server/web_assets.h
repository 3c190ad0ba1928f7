// The web page's files (web/), embedded into the binary at build time.
//
// cmake/embed_web.cmake turns every file under web/ into a generated C++ source that defines the
// table behind FindWebAsset; the library target is keyva_web_assets. The bodies live in static
// storage for the whole run of the program, so the returned pointers and views never dangle.
//
// Thread-safety: the table is immutable; FindWebAsset may be called from any thread.
#pragma once

#include <string_view>

namespace keyva::server {

struct WebAsset {
  std::string_view body;          // the file's bytes, exactly as in web/
  std::string_view content_type;  // e.g. "text/html; charset=utf-8", from the file's extension
};

// Returns the asset served at path ("/index.html", "/js/main.js", ...; "/" is index.html), or
// nullptr when there is none. path is the URL path without a query string; it is matched exactly.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace keyva::server
