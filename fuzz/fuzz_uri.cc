// Fuzz target: request routing and key decoding — SplitTarget, PercentDecode (both modes),
// ParseQuery, PercentEncodePath round trips, Router::RouteLabel and Router::CheckHeader (the
// header-only checks: route, method, key and query syntax, auth, body length) on an arbitrary
// request: the first line is the method, the second the target, the rest "Name: value" headers.
// Invariants: no crash or sanitizer report; PercentDecode(PercentEncodePath(x)) == x; a decoded
// key accepted by IsValidUtf8 stays valid after a round trip.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fuzz/router_fixture.h"
#include "internal/server/config.h"
#include "internal/server/metrics.h"
#include "internal/server/router.h"
#include "internal/server/uri_decoding.h"

namespace {

using namespace keyva::server;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static RouterFixture* fx = new RouterFixture(false);  // CheckHeader needs no storage
  const std::string input(reinterpret_cast<const char*>(data), size);

  std::string_view path, query;
  SplitTarget(input, &path, &query);
  std::string decoded;
  for (bool plus : {false, true}) {
    if (PercentDecode(input, plus, &decoded)) (void)IsValidUtf8(decoded);
  }
  std::string encoded = PercentEncodePath(input);
  if (!PercentDecode(encoded, false, &decoded) || decoded != input) abort();
  std::map<std::string, std::string> params;
  std::string error;
  static const std::set<std::string_view> kAllowed = {"prefix", "after", "limit", "ttl", "by"};
  (void)ParseQuery(query, kAllowed, &params, &error);

  // method \n target \n headers...
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= input.size() && lines.size() < 32) {
    size_t nl = input.find('\n', start);
    if (nl == std::string::npos) nl = input.size();
    lines.push_back(input.substr(start, nl - start));
    start = nl + 1;
  }
  Request req;
  if (!lines.empty()) {
    try {
      req.method_string(lines[0]);
    } catch (...) {
      return 0;
    }
  }
  req.target(lines.size() > 1 ? lines[1] : "/");
  for (size_t i = 2; i < lines.size(); i++) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos || colon == 0) continue;
    std::string name = lines[i].substr(0, colon);
    std::string value = lines[i].substr(colon + 1);
    try {
      req.set(name, value);
    } catch (...) {
    }
  }
  (void)Router::RouteLabel(req.target());
  (void)fx->router->CheckHeader(req);
  return 0;
}
