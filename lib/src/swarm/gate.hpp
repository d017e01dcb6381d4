// Private: the manifest checks that decide whether a torrent may be seeded or downloaded. The
// checks themselves belong to the release module; this file only adapts them to libtorrent.
#pragma once

#include <libtorrent/torrent_info.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/release.hpp"

namespace modelswarm::swarm {

namespace lt = libtorrent;

enum class KeyPolicy {
  strict,        // fetch: the publisher key must be given (--trust) or be in the trust store
  self_allowed,  // seed: without either, the manifest's own publisher key is used (warning)
};

struct GateResult {
  VerifiedManifest verified;
  std::string warning;  // non-empty when the key was not one the user trusts
};

// Signature (with a trusted key), then: the torrent lists exactly the manifest's files plus the
// two .modelswarm files, with the signed v2 pieces roots. `origin` names the source in errors.
Result<GateResult> check_release_metadata(const std::string& manifest_bytes,
                                          const std::string& signature_bytes,
                                          const std::vector<std::string>& trusted_keys,
                                          KeyPolicy policy, const lt::torrent_info& ti,
                                          const std::string& origin);

// The manifest's chunk SHA-256s over the files in `release_dir` (options: chunks already
// checked, see ChunkCheckOptions).
Status check_chunks(const std::filesystem::path& release_dir, const Manifest& manifest,
                    const ChunkCheckOptions& options = {});

}  // namespace modelswarm::swarm
