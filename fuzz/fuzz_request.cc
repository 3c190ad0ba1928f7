// Fuzz target: the whole request path of a session, from raw bytes to a response — the
// RequestParser (limits, framing, Host, absolute-form), the version rewrite for HTTP/1.x, the
// header checks (Router::CheckHeader) and the handlers (Router::Handle) over a storage thread on an
// in-memory Env, and the serialization of every response.
//
// The input is what a client sends on one connection: requests are parsed one after another
// (pipelining) until the bytes run out or a request is refused, exactly as HttpSession does.
// Invariants: no crash, no sanitizer report, no exception (Beast's field storage throws on fields
// of 64 KiB and more: the parser must refuse them first); the responder is called exactly once per
// request; a refused parse always carries a refusal or a Beast error.
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/serializer.hpp>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "fuzz/router_fixture.h"
#include "internal/server/config.h"
#include "internal/server/metrics.h"
#include "internal/server/request_parser.h"
#include "internal/server/router.h"

namespace {

using namespace keyva::server;
namespace beast = boost::beast;

// Serializes res as the session would (every byte, no socket).
void Serialize(Response& res) {
  http::serializer<false, PayloadBody> sr(res);
  beast::error_code ec;
  size_t total = 0;
  while (!sr.is_done()) {
    sr.next(ec, [&](beast::error_code& e, const auto& buffers) {
      const size_t n = boost::asio::buffer_size(buffers);
      total += n;
      sr.consume(n);
      e = {};
    });
    if (ec) abort();
  }
  if (total == 0) abort();
}

// Runs one parsed request through the router and waits for its one response.
void Serve(RouterFixture& fx, Request&& req) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto promise = std::make_shared<std::promise<Response>>();
  std::future<Response> reply = promise->get_future();
  if (std::optional<Response> refusal = fx.router->CheckHeader(req)) {
    Serialize(*refusal);
    return;
  }
  fx.router->Handle(std::move(req), [calls, promise](Response&& res) {
    if (calls->fetch_add(1) != 0) abort();  // exactly once
    promise->set_value(std::move(res));
  });
  Response res = reply.get();
  Serialize(res);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static RouterFixture* fx = new RouterFixture(true, [](ServerConfig* c) {
    c->max_header_size = 4096;  // small limits, so inputs reach them
    c->max_value_size = 65536;
    c->max_key_size = 256;
    c->response_memory = 1u << 20;
  });
  RequestLimits limits;
  limits.max_header_bytes = fx->config.max_header_size;
  limits.max_body_bytes = fx->config.max_value_size;
  limits.max_trailer_bytes = fx->config.max_header_size;
  std::string input(reinterpret_cast<const char*>(data), size);
  size_t pos = 0;
  for (int requests = 0; pos < input.size() && requests < 16; requests++) {
    std::optional<RequestParser> parser(std::in_place, limits);
    parser->eager(true);
    beast::error_code ec;
    bool patched = false;
    bool overflow = false;
    for (;;) {
      // The session buffers at most ReadAheadLimit bytes ahead of the parser.
      const size_t avail = std::min(input.size() - pos, limits.ReadAheadLimit());
      const size_t used = parser->put(boost::asio::buffer(input.data() + pos, avail), ec);
      pos += used;
      if (ec == http::error::bad_version && !patched) {
        size_t at = 0;
        if (RequestParser::ClassifyVersionError(std::string_view(input).substr(pos), &at) ==
            RequestParser::VersionVerdict::kNewerMinor) {
          input[pos + at] = '1';  // served as HTTP/1.1, as HttpSession::OnBadVersion does
          patched = true;
          parser.emplace(limits);
          parser->eager(true);
          continue;
        }
      }
      if (ec == http::error::need_more && used == 0 && avail == limits.ReadAheadLimit()) {
        overflow = true;  // the session's read would fail with buffer_overflow here
      }
      if (ec != http::error::need_more || used == 0) break;
    }
    if (RequestParser::IsRefusal(ec)) {
      if (!parser->refusal()) abort();
      Response res = MakeErrorResponse(parser->refusal()->status, parser->refusal()->message);
      Serialize(res);
      return 0;
    }
    if (overflow) {
      Refusal r = parser->OverflowRefusal(std::string_view(input).substr(pos));
      Response res = MakeErrorResponse(r.status, r.message);
      Serialize(res);
      return 0;
    }
    if (ec == http::error::need_more) {
      if (parser->is_header_done()) {
        // The rest never came; the header checks ran first in the session, so run them here.
        if (std::optional<Response> refused = fx->router->CheckHeader(parser->get())) {
          Serialize(*refused);
        }
      }
      return 0;
    }
    if (ec || !parser->is_done()) return 0;  // a Beast parse error: the session answers 400
    Serve(*fx, parser->release());
  }
  return 0;
}
