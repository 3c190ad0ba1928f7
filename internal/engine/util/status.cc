#include "internal/engine/status.h"

#include <cerrno>
#include <cstring>

namespace keyva {

Status Status::FromErrno(std::string_view context, int err) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return NoSpace(msg);
  return IOError(msg);
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->msg : kEmpty;
}

std::string Status::ToString() const {
  if (!state_) return "OK";
  const char* kind = "Unknown";
  switch (state_->code) {
    case Code::kOk:
      kind = "OK";
      break;
    case Code::kNotFound:
      kind = "NotFound";
      break;
    case Code::kCorruption:
      kind = "Corruption";
      break;
    case Code::kIOError:
      kind = "IOError";
      break;
    case Code::kNoSpace:
      kind = "NoSpace";
      break;
    case Code::kInvalidArgument:
      kind = "InvalidArgument";
      break;
    case Code::kBusy:
      kind = "Busy";
      break;
    case Code::kNotSupported:
      kind = "NotSupported";
      break;
  }
  return std::string(kind) + ": " + state_->msg;
}

}  // namespace keyva
