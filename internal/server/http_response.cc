// JSON and error responses; see http_response.h.
#include "internal/server/http_response.h"

namespace keyva::server {

namespace {

template <typename Json>
Response JsonResponse(http::status status, const Json& body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  std::string text = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  text.push_back('\n');
  res.body() = std::move(text);
  res.prepare_payload();
  return res;
}

}  // namespace

Response MakeJsonResponse(http::status status, const nlohmann::json& body) {
  return JsonResponse(status, body);
}

Response MakeOrderedJsonResponse(http::status status, const nlohmann::ordered_json& body) {
  return JsonResponse(status, body);
}

void SetRevision(Response* res, uint64_t revision) {
  res->set(kRevisionHeader, std::to_string(revision));
}

Response MakeErrorResponse(http::status status, std::string_view message) {
  nlohmann::json body = {{"error", message}, {"status", static_cast<int>(status)}};
  Response res = MakeJsonResponse(status, body);
  if (status == http::status::service_unavailable) res.set(http::field::retry_after, "1");
  return res;
}

http::status EngineStatusToHttp(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return http::status::ok;
    case Status::Code::kNotFound:
      return http::status::not_found;
    case Status::Code::kInvalidArgument:
      return http::status::bad_request;
    case Status::Code::kBusy:
      return http::status::service_unavailable;
    case Status::Code::kNoSpace:
      return http::status::insufficient_storage;
    default:
      return http::status::internal_server_error;
  }
}

Response MakeEngineErrorResponse(const Status& s, std::string_view doing) {
  http::status code = EngineStatusToHttp(s);
  std::string message(doing);
  if (code == http::status::insufficient_storage) {
    message += ": the disk is full (" + s.ToString() + ")";
  } else {
    message += ": " + s.ToString();
  }
  return MakeErrorResponse(code, message);
}

}  // namespace keyva::server
