#include "modelswarm/error.hpp"

namespace modelswarm {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::format: return "format";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::io: return "io";
    case ErrorCode::trust: return "trust";
    case ErrorCode::content: return "content";
    case ErrorCode::network: return "network";
    case ErrorCode::interrupted: return "interrupted";
    case ErrorCode::internal: return "internal";
  }
  return "internal";
}

}  // namespace modelswarm
