// The request parser and its limits and framing rules; see request_parser.h.
#include "internal/server/request_parser.h"

#include <boost/beast/core/string.hpp>
#include <string>

#include "internal/server/header_text.h"

namespace keyva::server {
namespace {

// The error category of the parser's refusals (one code: the refusal() says the rest).
class RefusalCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "keyva.request"; }
  std::string message(int) const override { return "request refused"; }
};

const RefusalCategory& TheRefusalCategory() {
  static const RefusalCategory category;
  return category;
}

constexpr int kRefused = 1;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// RFC 3986 unreserved and sub-delims: the characters of a reg-name besides %-escapes.
bool IsRegNameChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c)) return true;
  return std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;
}

// "http://authority/path?q" -> true with *authority and *origin ("/path?q"); case-insensitive
// scheme. False when target is not an absolute http(s) URI.
bool SplitAbsoluteForm(std::string_view target, std::string_view* authority, std::string* origin) {
  size_t scheme_len = 0;
  if (target.size() >= 7 && boost::beast::iequals(target.substr(0, 7), "http://")) {
    scheme_len = 7;
  } else if (target.size() >= 8 && boost::beast::iequals(target.substr(0, 8), "https://")) {
    scheme_len = 8;
  } else {
    return false;
  }
  std::string_view rest = target.substr(scheme_len);
  const size_t end = rest.find_first_of("/?#");
  *authority = rest.substr(0, end);
  std::string_view path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (path.empty() || path.front() != '/') {
    *origin = "/" + std::string(path);
  } else {
    *origin = std::string(path);
  }
  return true;
}

}  // namespace

bool IsValidHostValue(std::string_view value) {
  std::string_view host = value;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    // IP-literal: "[" ( IPv6address / IPvFuture ) "]"
    const size_t close = host.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!IsHexDigit(c) && c != ':' && c != '.' && c != 'v' && c != 'V' && !IsRegNameChar(c)) {
        return false;
      }
    }
    std::string_view after = host.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
    }
  } else {
    const size_t colon = host.rfind(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    for (size_t i = 0; i < host.size(); i++) {
      if (host[i] == '%') {
        if (i + 2 >= host.size() || !IsHexDigit(host[i + 1]) || !IsHexDigit(host[i + 2])) {
          return false;
        }
        i += 2;
      } else if (!IsRegNameChar(host[i])) {
        return false;
      }
    }
    if (colon != std::string_view::npos && host.empty()) return false;  // ":8080"
  }
  if (port.size() > 5) return false;
  for (char c : port) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

RequestParser::RequestParser(const RequestLimits& limits) : limits_(limits) {
  header_limit(static_cast<std::uint32_t>(
      std::min<uint64_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  body_limit(limits.max_body_bytes);
}

bool RequestParser::IsRefusal(const boost::system::error_code& ec) {
  return ec.value() == kRefused && &ec.category() == &TheRefusalCategory();
}

void RequestParser::Refuse(http::status status, std::string message,
                           boost::system::error_code& ec) {
  refusal_ = Refusal{status, std::move(message)};
  ec.assign(kRefused, TheRefusalCategory());
}

void RequestParser::on_request_impl(http::verb method, boost::beast::string_view method_str,
                                    boost::beast::string_view target, int version,
                                    boost::system::error_code& ec) {
  // "METHOD SP target SP HTTP/x.y CRLF"
  header_bytes_ = method_str.size() + 1 + target.size() + 1 + 8 + 2;
  if (header_bytes_ > limits_.max_header_bytes) {
    return Refuse(http::status::request_header_fields_too_large,
                  "the request line and headers are larger than " +
                      std::to_string(limits_.max_header_bytes) + " bytes",
                  ec);
  }
  if (method != http::verb::unknown) {
    request_.method(method);
  } else {
    request_.method_string(method_str);
  }
  request_.version(version);
  std::string_view authority;
  std::string origin;
  if (SplitAbsoluteForm(target, &authority, &origin)) {
    if (!IsValidHostValue(authority) || authority.empty()) {
      return Refuse(http::status::bad_request,
                    "the absolute-form request target has an invalid authority", ec);
    }
    absolute_form_ = true;
    request_.target(origin);
  } else {
    request_.target(target);
  }
}

void RequestParser::on_field_impl(http::field name, boost::beast::string_view name_string,
                                  boost::beast::string_view value, boost::system::error_code& ec) {
  const uint64_t line = name_string.size() + 2 + value.size() + 2;  // "name: value\r\n"
  if (name_string.size() > kMaxFieldBytes || value.size() > kMaxFieldBytes) {
    return Refuse(http::status::request_header_fields_too_large,
                  "the field " + std::string(name_string.substr(0, 64)) + " is larger than " +
                      std::to_string(kMaxFieldBytes) + " bytes",
                  ec);
  }
  if (header_done_) {
    // A trailer field. None changes how keyvad handles a request (RFC 9110 §6.5.1: never merged
    // into the header section), so it is counted and dropped.
    trailer_bytes_ += line;
    if (trailer_bytes_ > limits_.max_trailer_bytes) {
      return Refuse(http::status::request_header_fields_too_large,
                    "the trailer section is larger than " +
                        std::to_string(limits_.max_trailer_bytes) + " bytes",
                    ec);
    }
    return;
  }
  header_bytes_ += line;
  if (header_bytes_ + 2 > limits_.max_header_bytes) {
    return Refuse(http::status::request_header_fields_too_large,
                  "the request line and headers are larger than " +
                      std::to_string(limits_.max_header_bytes) + " bytes",
                  ec);
  }
  if (name == http::field::host) {
    host_fields_++;
    if (host_fields_ > 1) {
      return Refuse(http::status::bad_request, "the request has more than one Host field", ec);
    }
    if (!IsValidHostValue(TrimOws(value))) {
      return Refuse(http::status::bad_request, "the Host field is not a valid host[:port]", ec);
    }
  } else if (name == http::field::transfer_encoding) {
    if (!transfer_codings_.empty()) transfer_codings_ += ',';
    transfer_codings_.append(value);
  }
  request_.insert(name, name_string, value);
}

void RequestParser::on_header_impl(boost::system::error_code& ec) {
  header_done_ = true;
  if (request_.version() >= 11 && host_fields_ == 0) {
    return Refuse(http::status::bad_request, "an HTTP/1.1 request needs a Host field", ec);
  }
  CheckFraming(ec);
}

void RequestParser::CheckFraming(boost::system::error_code& ec) {
  if (request_.find(http::field::transfer_encoding) == request_.end()) return;
  if (request_.version() < 11) {
    return Refuse(http::status::bad_request,
                  "Transfer-Encoding is not allowed in an HTTP/1.0 request", ec);
  }
  if (request_.find(http::field::content_length) != request_.end()) {
    return Refuse(http::status::bad_request,
                  "the request has both Transfer-Encoding and Content-Length; send one", ec);
  }
  // transfer-coding = token *( OWS ";" OWS transfer-parameter ), comma-separated.
  std::string_view rest = transfer_codings_;
  std::string_view last;
  int chunked = 0;
  std::string unsupported;
  for (;;) {
    const size_t comma = rest.find(',');
    const std::string_view item = TrimOws(rest.substr(0, comma));
    if (!item.empty()) {
      if (boost::beast::iequals(item, "chunked")) {
        chunked++;
      } else if (unsupported.empty()) {
        unsupported = std::string(item.substr(0, 64));
      }
      last = item;
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (last.empty() || !boost::beast::iequals(last, "chunked")) {
    return Refuse(http::status::bad_request,
                  "the final Transfer-Encoding must be chunked (RFC 9112 §6.3)", ec);
  }
  if (chunked > 1) {
    return Refuse(http::status::bad_request, "chunked is applied more than once", ec);
  }
  if (!unsupported.empty()) {
    return Refuse(http::status::not_implemented,
                  "the transfer coding '" + unsupported +
                      "' is not supported: send the body with chunked alone",
                  ec);
  }
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      boost::system::error_code& ec) {
  // Room for a declared length, but no more than 1 MiB ahead of the bytes actually arriving: a
  // client that announces 16 MiB and sends one byte must not cost 16 MiB.
  if (content_length) {
    request_.body().reserve(static_cast<size_t>(std::min<uint64_t>(*content_length, 1u << 20)));
  }
}

size_t RequestParser::on_body_impl(boost::beast::string_view body, boost::system::error_code& ec) {
  request_.body().append(body);
  return body.size();
}

void RequestParser::on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions,
                                         boost::system::error_code& ec) {
  extension_bytes_ += extensions.size();
  if (extension_bytes_ > limits_.max_chunk_extension_bytes) {
    return Refuse(http::status::bad_request,
                  "the chunk extensions are larger than " +
                      std::to_string(limits_.max_chunk_extension_bytes) + " bytes in total",
                  ec);
  }
}

size_t RequestParser::on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                                         boost::system::error_code& ec) {
  request_.body().append(body);
  return body.size();
}

Refusal RequestParser::OverflowRefusal(std::string_view unparsed) const {
  if (!header_done_) {
    return {http::status::request_header_fields_too_large,
            "the request line and headers are larger than " +
                std::to_string(limits_.max_header_bytes) + " bytes"};
  }
  // In a chunked body: either a chunk header line that never ends (extensions), or the last
  // chunk's trailer section.
  std::string_view s = unparsed;
  if (s.substr(0, 2) == "\r\n") s.remove_prefix(2);
  const size_t eol = s.find("\r\n");
  size_t digits = 0;
  while (digits < s.size() && IsHexDigit(s[digits])) digits++;
  const bool last_chunk = eol != std::string_view::npos && digits > 0 &&
                          s.substr(0, digits).find_first_not_of('0') == std::string_view::npos;
  if (last_chunk) {
    return {http::status::request_header_fields_too_large,
            "the trailer section is larger than " + std::to_string(limits_.max_trailer_bytes) +
                " bytes"};
  }
  return {http::status::bad_request,
          "a chunk header line is longer than " + std::to_string(limits_.ReadAheadLimit()) +
              " bytes (chunk extensions are limited to " +
              std::to_string(limits_.max_chunk_extension_bytes) + " bytes)"};
}

RequestParser::VersionVerdict RequestParser::ClassifyVersionError(std::string_view buffered,
                                                                  size_t* patch_at) {
  // Beast stops at the version token, so the line's end may not have arrived yet.
  const std::string_view line = buffered.substr(0, buffered.find("\r\n"));
  const size_t sp = line.rfind(' ');
  if (sp == std::string_view::npos) return VersionVerdict::kMalformed;
  const std::string_view version = line.substr(sp + 1);
  if (version.size() < 6 || version.substr(0, 5) != "HTTP/" || !IsDigit(version[5])) {
    return VersionVerdict::kMalformed;
  }
  if (version.size() == 6) return VersionVerdict::kOtherMajor;  // "HTTP/2", "HTTP/3"
  if (version.size() != 8 || version[6] != '.' || !IsDigit(version[7])) {
    return VersionVerdict::kMalformed;
  }
  if (version[5] != '1') return VersionVerdict::kOtherMajor;  // HTTP/0.9 and HTTP/2.0 alike
  if (version[7] >= '2') {
    *patch_at = sp + 1 + 7;
    return VersionVerdict::kNewerMinor;
  }
  return VersionVerdict::kMalformed;
}

}  // namespace keyva::server
