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
#include "modelswarm/sha256.hpp"

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

// Two ledgers of manifest digests per (key id, release name, version):
//  - seen (state_dir()/manifests_seen.json): the one manifest this machine accepted. A publisher
//    whose key signs two different manifests for one version (equivocation) could show each
//    machine a different release under one name; remembering the first makes every later,
//    different one a trust error.
//  - signed_here (state_dir()/manifests_signed.json): what pack signed on this machine, so that
//    a publisher never signs two by mistake, nor a version lower than one already signed. Kept
//    apart from `seen`: a publisher's machine may well fetch an older release it signed.
enum class Ledger { seen, signed_here };
Result<std::optional<Sha256Digest>> seen_manifest_digest(const std::string& key_id,
                                                         const std::string& name, uint64_t version,
                                                         Ledger ledger = Ledger::seen);
// The highest version recorded in `ledger` for (key id, name).
Result<std::optional<uint64_t>> highest_recorded_version(const std::string& key_id, const std::string& name,
                                                         Ledger ledger);
// The one-line trust error for a second, different manifest of an accepted version.
std::string equivocation_message(const std::string& key_id, const std::string& name, uint64_t version,
                                 const Sha256Digest& first, const Sha256Digest& now);
enum class SeenManifest { keep_first, replace };
// Records `digest` for (key id, name, version). With keep_first, a different digest already
// recorded is a trust error and nothing changes; `replace` is for a publisher re-signing on
// purpose (pack --resign).
Status record_seen_manifest(const std::string& key_id, const std::string& name, uint64_t version,
                            const Sha256Digest& digest, SeenManifest mode = SeenManifest::keep_first,
                            Ledger ledger = Ledger::seen);

}  // namespace modelswarm
