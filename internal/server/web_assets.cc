// Lookup of the embedded web files; see web_assets.h.
#include "internal/server/web_assets.h"

#include <cstddef>

namespace keyva::server {
namespace web_data {
struct EmbeddedFile {
  std::string_view path;
  std::string_view data;
};
extern const EmbeddedFile kFiles[];
extern const size_t kFileCount;
}  // namespace web_data

namespace {

constexpr std::string_view kPlaceholder = R"(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>keyva</title></head>
<body>
<h1>keyva</h1>
<p>The web page is not built into this keyvad. The HTTP API is available:</p>
<ul>
<li><code>GET /kv/?prefix=P</code> lists keys; <code>GET|PUT|DELETE /kv/{key}</code> reads, stores and
deletes values</li>
<li><code>POST /seq/{name}</code> increments a counter</li>
<li><a href="/api/stats">/api/stats</a>, <a href="/metrics">/metrics</a>,
<a href="/healthz">/healthz</a></li>
</ul>
</body>
</html>
)";

std::string_view TypeForPath(std::string_view path) {
  size_t dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "webmanifest") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "woff2") return "font/woff2";
  return "application/octet-stream";
}

}  // namespace

bool FindWebAsset(std::string_view path, WebAsset* asset) {
  if (path == "/") path = "/index.html";
  for (size_t i = 0; i < web_data::kFileCount; i++) {
    if (web_data::kFiles[i].path == path) {
      asset->content_type = TypeForPath(path);
      asset->body = web_data::kFiles[i].data;
      return true;
    }
  }
  if (path == "/index.html") {
    asset->content_type = "text/html; charset=utf-8";
    asset->body = kPlaceholder;
    return true;
  }
  return false;
}

}  // namespace keyva::server
