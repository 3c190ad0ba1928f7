// Payload and PayloadBody: the body of every keyvad response — bytes that many responses may
// share instead of each holding its own copy.
//
// A Payload is a view of immutable bytes plus what keeps them alive: a string it owns, a
// reference-counted string shared with other responses (a value read once and sent to many
// clients; see response_memory.h), or static bytes (the embedded web page). Copying a Payload
// copies the reference, never the bytes. PayloadBody is the Beast Body type over it, so a
// Response can be serialized straight from the shared bytes.
//
// Thread-safety: a Payload is immutable once built; copies on different threads are safe (the
// reference count is atomic).
#pragma once

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace keyva::server {

class Payload {
 public:
  Payload() = default;
  // Owns bytes.
  Payload(std::string bytes)  // NOLINT(google-explicit-constructor): a body is assigned a string
      : Payload(std::make_shared<const std::string>(std::move(bytes))) {}
  // Shares bytes with whoever else holds them.
  explicit Payload(std::shared_ptr<const std::string> bytes)
      : owner_(std::move(bytes)), view_(owner_ ? std::string_view(*owner_) : std::string_view()) {}
  // Bytes that outlive every response (static storage).
  static Payload Static(std::string_view bytes) {
    Payload p;
    p.view_ = bytes;
    return p;
  }

  std::string_view view() const { return view_; }
  const char* data() const { return view_.data(); }
  size_t size() const { return view_.size(); }
  bool empty() const { return view_.empty(); }
  const char* begin() const { return view_.data(); }
  const char* end() const { return view_.data() + view_.size(); }
  void clear() { *this = Payload(); }
  // The bytes [offset, offset + length) of these (clamped to them), sharing what keeps them alive.
  Payload Slice(size_t offset, size_t length) const {
    Payload p = *this;
    p.view_ = view_.substr(std::min(offset, view_.size()), length);
    return p;
  }
  // How many Payloads hold these bytes (0 for static ones).
  long use_count() const { return owner_.use_count(); }

  friend bool operator==(const Payload& a, std::string_view b) { return a.view_ == b; }
  friend std::ostream& operator<<(std::ostream& out, const Payload& p) { return out << p.view_; }

 private:
  std::shared_ptr<const std::string> owner_;
  std::string_view view_;
};

// A Beast Body whose value is a Payload (serialize only: keyvad never parses into it).
struct PayloadBody {
  using value_type = Payload;

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& body)
        : body_(body) {}

    void init(boost::beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      return {{const_buffers_type{body_.data(), body_.size()}, false}};
    }

   private:
    const value_type& body_;
  };
};

}  // namespace keyva::server
