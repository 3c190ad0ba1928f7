// RequestParser: how keyvad reads one HTTP/1.1 request off the wire — Beast's parser core with
// keyvad's limits and RFC 9112's framing rules on top.
//
// Beast's basic_parser tokenizes; this class builds the Request (method, target, fields, body)
// and refuses what keyvad will not take, each limit checked before more bytes are kept:
//   request line + header fields over max_header_bytes      -> 431 (Beast counts only the fields)
//   one field line over kMaxFieldBytes                       -> 431 (Beast's field storage keeps
//                                                                16-bit offsets and would throw)
//   chunk extensions over max_chunk_extension_bytes in total -> 400
//   trailer fields over max_trailer_bytes in total           -> 431
//   a body over max_body_bytes                               -> 413 (Beast's body limit)
// The session's read buffer is capped (ReadAheadLimit) so a line that never ends — a field, a
// chunk header, a trailer — stops at the cap: OverflowRefusal says what to answer then.
//
// Framing (RFC 9112 §6.1, §6.3), where Beast would frame a request some other way than the one
// every proxy in front of keyvad would:
//   Transfer-Encoding whose final coding is not chunked      -> 400
//   a coding keyvad does not implement (gzip, ...) + chunked -> 501
//   chunked applied more than once                           -> 400
//   Transfer-Encoding and Content-Length together            -> 400 (a smuggling attempt)
//   Transfer-Encoding in an HTTP/1.0 request                 -> 400
// Host (§3.2): an HTTP/1.1 request without Host, any request with two Host fields or an invalid
// one -> 400. Absolute-form targets ("http://host:port/path?q", §3.2.2) are accepted and
// rewritten to origin form ("/path?q"). Newer minor versions (HTTP/1.2) are served as 1.1 and a
// other major version gets 505 (RFC 9110 §2.5): see ClassifyVersionError.
//
// Every refusal stops the parser with kRefused (IsRefusal); refusal() then holds the status and
// message. A refused request's framing is in doubt: the session answers and closes.
//
// Thread-safety: one parser per message, used on its session's strand.
#pragma once

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "internal/server/http_response.h"

namespace keyva::server {

struct RequestLimits {
  uint64_t max_header_bytes = 16u << 10;  // request line + fields, CRLFs included
  uint64_t max_body_bytes = 16u << 20;
  uint64_t max_chunk_extension_bytes = 4u << 10;  // all chunk extensions of one body
  uint64_t max_trailer_bytes = 16u << 10;         // all trailer fields of one body

  // The most bytes a session buffers ahead of the parser: enough for the largest header or
  // trailer section plus a comfortable read size.
  size_t ReadAheadLimit() const { return static_cast<size_t>(max_header_bytes) + (64u << 10); }
};

// Why the parser stopped short of a complete request: the response to send before closing.
struct Refusal {
  http::status status = http::status::bad_request;
  std::string message;
};

class RequestParser final : public http::basic_parser<true> {
 public:
  // Beast's field storage holds a field's name or value in at most 65,533 bytes.
  static constexpr size_t kMaxFieldBytes = 65'000;

  explicit RequestParser(const RequestLimits& limits);

  Request& get() { return request_; }
  const Request& get() const { return request_; }
  Request release() { return std::move(request_); }

  // True when ec is this parser's own refusal (refusal() says what to answer).
  static bool IsRefusal(const boost::system::error_code& ec);
  const std::optional<Refusal>& refusal() const { return refusal_; }

  // The answer when the session's read-ahead buffer filled before the parser could finish a
  // line: unparsed is what is buffered and not yet consumed.
  Refusal OverflowRefusal(std::string_view unparsed) const;

  // What to do about Beast's bad_version on the request line at the start of `buffered`:
  enum class VersionVerdict {
    kMalformed,   // not an HTTP version: 400
    kNewerMinor,  // HTTP/1.2 .. HTTP/1.9: *patch_at is the offset of the minor digit to set
                  // to '1', after which the same bytes parse as HTTP/1.1
    kOtherMajor,  // HTTP/0.x, HTTP/2 and up over HTTP/1 framing: 505
  };
  static VersionVerdict ClassifyVersionError(std::string_view buffered, size_t* patch_at);

 private:
  void on_request_impl(http::verb method, boost::beast::string_view method_str,
                       boost::beast::string_view target, int version,
                       boost::system::error_code& ec) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::system::error_code&) override {}
  void on_field_impl(http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::system::error_code& ec) override;
  size_t on_body_impl(boost::beast::string_view body, boost::system::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions,
                            boost::system::error_code& ec) override;
  size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                            boost::system::error_code& ec) override;
  void on_finish_impl(boost::system::error_code& ec) override {}

  void Refuse(http::status status, std::string message, boost::system::error_code& ec);
  void CheckFraming(boost::system::error_code& ec);

  const RequestLimits limits_;
  Request request_;
  std::optional<Refusal> refusal_;
  uint64_t header_bytes_ = 0;   // request line and fields so far
  uint64_t trailer_bytes_ = 0;  // trailer fields so far
  uint64_t extension_bytes_ = 0;
  int host_fields_ = 0;
  bool header_done_ = false;
  bool absolute_form_ = false;
  std::string transfer_codings_;  // every Transfer-Encoding value, comma-joined
};

// True when value is a valid Host field value: uri-host [ ":" port ] (RFC 9110 §7.2 and RFC 3986
// §3.2.2), empty included.
bool IsValidHostValue(std::string_view value);

}  // namespace keyva::server
