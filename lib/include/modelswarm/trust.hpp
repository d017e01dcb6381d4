// The user's trust store (public keys whose releases verify without --trust) and rollback state
// (highest release version seen per key id + name). Both live in state_dir(), are written
// atomically, and are serialized across processes with a lock file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/minisign.hpp"

namespace modelswarm {

// state_dir()/trusted_keys: one "RW..." key per line ('#' comments allowed).
Result<std::vector<PublicKey>> load_trusted_keys();
// Adds a key; returns false when it was already trusted.
Result<bool> add_trusted_key(const PublicKey& key);
// Removes the key with this id (16 hex digits) or this base64 form; returns false when absent.
Result<bool> remove_trusted_key(std::string_view key_id_or_key);

// state_dir()/rollback.json. Highest version recorded for (key id, release name), if any.
Result<std::optional<uint64_t>> highest_seen_version(const std::string& key_id,
                                                     const std::string& name);
// Records `version` if it is higher than what was recorded.
Status record_seen_version(const std::string& key_id, const std::string& name, uint64_t version);

}  // namespace modelswarm
