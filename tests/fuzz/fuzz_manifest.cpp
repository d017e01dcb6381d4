// libFuzzer target for everything a release's metadata parsers read from untrusted bytes: the
// manifest JSON, minisign signatures, public keys and secret key files. The first input byte
// picks the parser so one corpus exercises all of them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "modelswarm/manifest.hpp"
#include "modelswarm/minisign.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto m = modelswarm::parse_manifest(in, "fuzz");
      // A manifest that parses must serialize and parse back to the same bytes.
      if (m.ok()) {
        std::string s = modelswarm::serialize_manifest(*m);
        auto again = modelswarm::parse_manifest(s, "fuzz");
        if (!again.ok() || modelswarm::serialize_manifest(*again) != s) __builtin_trap();
      }
      break;
    }
    case 1: {
      auto s = modelswarm::parse_signature(in, "fuzz");
      if (s.ok()) {
        auto again = modelswarm::parse_signature(modelswarm::format_signature(*s), "fuzz");
        if (!again.ok() || again->trusted_comment != s->trusted_comment) __builtin_trap();
      }
      break;
    }
    case 2:
      (void)modelswarm::parse_public_key_file(in, "fuzz");
      break;
    case 3:
      // No password: an encrypted key stops before scrypt, so the fuzzer stays fast.
      (void)modelswarm::parse_secret_key_file(in, "fuzz", std::nullopt);
      break;
  }
  return 0;
}
