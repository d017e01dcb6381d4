// How commands that use a secret key obtain its password: --password-file, then the
// MODELSWARM_PASSWORD environment variable, then a prompt without echo on the terminal. Never
// prompts when stdin is not a terminal (automation must say where the password is).
#pragma once

#include <optional>
#include <string>

#include "modelswarm/error.hpp"
#include "modelswarm/minisign.hpp"

namespace modelswarm::cli {

struct PasswordSource {
  std::string file;  // --password-file; first line is the password
};

// `confirm` asks twice on a terminal (new keys). Errors: invalid_argument when no source is
// available, io when the file cannot be read.
Result<std::string> obtain_password(const PasswordSource& src, const std::string& what, bool confirm);

// Reads a minisign secret key file, asking for its password only when it is encrypted.
Result<SecretKey> load_secret_key(const std::string& path, const PasswordSource& src);

// Best-effort wipe of a string holding a password.
void wipe(std::string& s);

}  // namespace modelswarm::cli
