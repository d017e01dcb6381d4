// Trust store, rollback state and manifest ledgers in state_dir(), each read-modify-write under
// StateLock (state_file.hpp).
#include <nlohmann/json.hpp>

#include <charconv>
#include <sstream>

#include "crypto/minisign_util.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/trust.hpp"
#include "release/state_file.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

fs::path trust_file() { return state_dir() / "trusted_keys"; }
fs::path rollback_file() { return state_dir() / "rollback.json"; }
fs::path manifests_file(Ledger l = Ledger::seen) {
  return state_dir() / (l == Ledger::seen ? "manifests_seen.json" : "manifests_signed.json");
}

std::string format_keys(const std::vector<PublicKey>& keys) {
  std::string out = "# modelswarm trusted publisher keys (minisign format), one per line\n";
  for (const auto& k : keys) out += k.to_base64() + "\n";
  return out;
}

Result<std::vector<PublicKey>> parse_keys(const std::string& text, const fs::path& origin) {
  std::vector<PublicKey> keys;
  std::istringstream in(text);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string_view t = detail::trim(line);
    if (t.empty() || t.front() == '#') continue;
    auto k = parse_public_key(t);
    if (!k.ok())
      return Error::format(origin.string() + ":" + std::to_string(n) + ": " + k.error().message);
    keys.push_back(*k);
  }
  return keys;
}

Result<nlohmann::json> load_rollback() { return load_state_object(rollback_file()); }

std::string manifest_key(const std::string& key_id, const std::string& name, uint64_t version) {
  return key_id + "/" + name + "/" + std::to_string(version);
}

Result<std::optional<Sha256Digest>> digest_in(const nlohmann::json& j, const std::string& k, Ledger l) {
  auto it = j.find(k);
  if (it == j.end()) return std::optional<Sha256Digest>();
  std::optional<Sha256Digest> d;
  if (it->is_string()) d = sha256_from_hex(it->get<std::string>());
  if (!d) return Error::format(manifests_file(l).string() + ": corrupt entry for " + k);
  return d;
}

std::string rollback_key(const std::string& key_id, const std::string& name) {
  return key_id + "/" + name;
}

}  // namespace

Result<std::vector<PublicKey>> load_trusted_keys() {
  MS_ASSIGN_OR_RETURN(std::string text, read_optional_state(trust_file()));
  return parse_keys(text, trust_file());
}

Result<bool> add_trusted_key(const PublicKey& key) {
  MS_ASSIGN_OR_RETURN(StateLock lock, StateLock::acquire());
  MS_ASSIGN_OR_RETURN(std::vector<PublicKey> keys, load_trusted_keys());
  for (const auto& k : keys)
    if (k == key) return false;
  keys.push_back(key);
  MS_TRY(write_file_atomic(trust_file(), format_keys(keys), 0644));
  return true;
}

Result<bool> remove_trusted_key(std::string_view key_id_or_key) {
  MS_ASSIGN_OR_RETURN(StateLock lock, StateLock::acquire());
  MS_ASSIGN_OR_RETURN(std::vector<PublicKey> keys, load_trusted_keys());
  std::string wanted(detail::trim(key_id_or_key));
  for (auto& c : wanted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  size_t before = keys.size();
  std::erase_if(keys, [&](const PublicKey& k) {
    std::string b64 = k.to_base64();
    std::string up = b64;
    for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return key_id_hex(k.id) == wanted || up == wanted;
  });
  if (keys.size() == before) return false;
  MS_TRY(write_file_atomic(trust_file(), format_keys(keys), 0644));
  return true;
}

Result<std::optional<uint64_t>> highest_seen_version(const std::string& key_id, const std::string& name) {
  MS_ASSIGN_OR_RETURN(nlohmann::json j, load_rollback());
  auto it = j.find(rollback_key(key_id, name));
  if (it == j.end()) return std::optional<uint64_t>();
  if (!it->is_number_unsigned())
    return Error::format(rollback_file().string() + ": corrupt entry for " + rollback_key(key_id, name));
  return std::optional<uint64_t>(it->get<uint64_t>());
}

Status record_seen_version(const std::string& key_id, const std::string& name, uint64_t version) {
  MS_ASSIGN_OR_RETURN(StateLock lock, StateLock::acquire());
  MS_ASSIGN_OR_RETURN(nlohmann::json j, load_rollback());
  std::string k = rollback_key(key_id, name);
  auto it = j.find(k);
  if (it != j.end() && it->is_number_unsigned() && it->get<uint64_t>() >= version) return Status::success();
  j[k] = version;
  return write_file_atomic(rollback_file(), j.dump(2) + "\n", 0644);
}

Result<std::optional<Sha256Digest>> seen_manifest_digest(const std::string& key_id,
                                                         const std::string& name, uint64_t version,
                                                         Ledger ledger) {
  MS_ASSIGN_OR_RETURN(nlohmann::json j, load_state_object(manifests_file(ledger)));
  return digest_in(j, manifest_key(key_id, name, version), ledger);
}

Result<std::optional<uint64_t>> highest_recorded_version(const std::string& key_id, const std::string& name,
                                                         Ledger ledger) {
  MS_ASSIGN_OR_RETURN(nlohmann::json j, load_state_object(manifests_file(ledger)));
  const std::string prefix = key_id + "/" + name + "/";
  std::optional<uint64_t> highest;
  for (const auto& [k, v] : j.items()) {
    if (k.rfind(prefix, 0) != 0) continue;
    std::string_view rest = std::string_view(k).substr(prefix.size());
    uint64_t version = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), version);
    if (ec != std::errc() || end != rest.data() + rest.size()) continue;
    if (!highest || version > *highest) highest = version;
  }
  return highest;
}

Status record_seen_manifest(const std::string& key_id, const std::string& name, uint64_t version,
                            const Sha256Digest& digest, SeenManifest mode, Ledger ledger) {
  MS_ASSIGN_OR_RETURN(StateLock lock, StateLock::acquire());
  MS_ASSIGN_OR_RETURN(nlohmann::json j, load_state_object(manifests_file(ledger)));
  std::string k = manifest_key(key_id, name, version);
  MS_ASSIGN_OR_RETURN(std::optional<Sha256Digest> old, digest_in(j, k, ledger));
  if (old && *old == digest) return Status::success();
  if (old && mode == SeenManifest::keep_first)
    return Error::trust(equivocation_message(key_id, name, version, *old, digest));
  j[k] = to_hex(digest);
  return write_file_atomic(manifests_file(ledger), j.dump(1) + "\n", 0644);
}

std::string equivocation_message(const std::string& key_id, const std::string& name, uint64_t version,
                                 const Sha256Digest& first, const Sha256Digest& now) {
  return "key " + key_id + " signed two different manifests for " + name + " version " +
         std::to_string(version) + ": this one (sha256 " + to_hex(now).substr(0, 16) +
         "...) and one accepted here before (sha256 " + to_hex(first).substr(0, 16) +
         "...); refusing it (the record is in " + manifests_file().string() + ")";
}

}  // namespace modelswarm
