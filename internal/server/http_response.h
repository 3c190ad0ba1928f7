// HTTP message types shared by the server, and the builders of JSON and error responses.
//
// Every error keyvad sends is JSON: {"error": "<what went wrong, in plain words>", "status": N},
// with the same N as the HTTP status. MakeErrorResponse adds the headers some statuses require
// (Retry-After on 503). EngineStatusToHttp maps an engine Status kind to its HTTP status.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "internal/engine/status.h"
#include "internal/server/payload.h"

namespace keyva::server {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using RequestHeader = http::request_header<>;
// A response's body is a Payload: bytes it may share with other responses (payload.h).
using Response = http::response<PayloadBody>;

// Responses are built as HTTP/1.1 with keep-alive; the session sets the request's version and
// the connection's keep-alive before sending.

// A response with the given JSON body and Content-Type application/json, payload prepared.
Response MakeJsonResponse(http::status status, const nlohmann::json& body);
// MakeJsonResponse with the members in the order they were added (a client's document shown
// back).
Response MakeOrderedJsonResponse(http::status status, const nlohmann::ordered_json& body);

// {"error": message, "status": N}. For 503 also Retry-After: 1.
Response MakeErrorResponse(http::status status, std::string_view message);

// X-Keyva-Revision: the revision a response reflects (docs/server.md, "Watch").
inline constexpr std::string_view kRevisionHeader = "X-Keyva-Revision";
void SetRevision(Response* res, uint64_t revision);

// NotFound -> 404, InvalidArgument -> 400, Busy -> 503, NoSpace -> 507, anything else -> 500.
http::status EngineStatusToHttp(const Status& s);

// The error response for a failed engine operation; the message says what was being done.
Response MakeEngineErrorResponse(const Status& s, std::string_view doing);

}  // namespace keyva::server
