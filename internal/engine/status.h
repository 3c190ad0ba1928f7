// Status: the result of every engine operation that can fail.
//
// OK is cheap (no allocation). An error carries a kind and a message. Callers branch on the kind
// (IsNotFound(), IsCorruption(), ...) and show the message to people. The HTTP layer maps kinds to
// statuses: NotFound -> 404, InvalidArgument -> 400, Busy -> 503, NoSpace -> 507, the rest -> 500.
//
// [[nodiscard]]: a call whose Status is dropped does not compile (-Werror). Handle it, or cast it
// to (void) with a comment saying why ignoring it is right.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace keyva {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound,
    kCorruption,
    kIOError,
    kNoSpace,  // an I/O error caused by a full disk (ENOSPC/EDQUOT)
    kInvalidArgument,
    kBusy,  // e.g. the data directory is locked by another process
    kNotSupported,
  };

  Status() noexcept = default;
  Status(const Status& other) : state_(other.state_ ? new State(*other.state_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) state_.reset(other.state_ ? new State(*other.state_) : nullptr);
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status NoSpace(std::string_view msg) { return Status(Code::kNoSpace, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  // An I/O error from errno: ENOSPC and EDQUOT become NoSpace, others IOError.
  static Status FromErrno(std::string_view context, int err);

  bool ok() const { return state_ == nullptr; }
  Code code() const { return state_ ? state_->code : Code::kOk; }
  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsIOError() const { return code() == Code::kIOError || code() == Code::kNoSpace; }
  bool IsNoSpace() const { return code() == Code::kNoSpace; }
  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsBusy() const { return code() == Code::kBusy; }

  // The message alone (empty for OK).
  const std::string& message() const;
  // "Corruption: <message>", or "OK".
  std::string ToString() const;

 private:
  struct State {
    Code code;
    std::string msg;
  };
  Status(Code code, std::string_view msg) : state_(new State{code, std::string(msg)}) {}
  std::unique_ptr<State> state_;
};

}  // namespace keyva
