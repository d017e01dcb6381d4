#include "gate.hpp"

#include "modelswarm/minisign.hpp"
#include "modelswarm/release.hpp"
#include "modelswarm/trust.hpp"

namespace modelswarm::swarm {

Result<GateResult> check_release_metadata(const std::string& manifest_bytes,
                                          const std::string& signature_bytes,
                                          const std::vector<std::string>& trusted_keys,
                                          KeyPolicy policy, const lt::torrent_info& ti,
                                          const std::string& origin) {
  TrustOptions trust;
  for (const auto& k : trusted_keys) {
    MS_ASSIGN_OR_RETURN(PublicKey key, load_public_key(k));
    trust.trusted_keys.push_back(key);
  }
  GateResult out;
  if (trusted_keys.empty()) {
    auto store = load_trusted_keys();
    if (store.ok()) trust.trusted_keys = *store;
    if (policy == KeyPolicy::self_allowed) {
      // A publisher seeding what they just packed: check the signature against the key the
      // manifest names, so a corrupted or mixed-up manifest is still caught.
      MS_ASSIGN_OR_RETURN(Manifest m, parse_manifest(manifest_bytes, origin));
      MS_ASSIGN_OR_RETURN(PublicKey own, parse_public_key(m.publisher.public_key));
      bool known = false;
      for (const auto& k : trust.trusted_keys) known = known || k == own;
      if (!known) {
        trust.trusted_keys = {own};
        out.warning = m.name + ": publisher key " + m.publisher.public_key +
                      " is not in the trust store; seeding on its own signature";
      }
    } else if (trust.trusted_keys.empty()) {
      return Error::trust(origin + ": no trusted key: pass --trust KEY or add the publisher to the trust store");
    }
  }
  // Seeders may serve older releases; fetchers refuse rollbacks.
  trust.allow_downgrade = policy == KeyPolicy::self_allowed;
  MS_ASSIGN_OR_RETURN(VerifiedManifest vm, load_and_verify_manifest(manifest_bytes, signature_bytes, trust));
  MS_TRY(check_torrent_matches_manifest(ti, vm.manifest));
  out.verified = std::move(vm);
  return out;
}

Status check_chunks(const std::filesystem::path& release_dir, const Manifest& manifest,
                    const ChunkCheckOptions& options) {
  MS_ASSIGN_OR_RETURN(ContentReport report, verify_chunks(release_dir, manifest, options));
  if (!report.ok()) {
    const ContentProblem& p = report.problems.front();
    return Error::content(release_dir.string() + ": " + p.message +
                          (report.problems.size() > 1
                               ? " (and " + std::to_string(report.problems.size() - 1) + " more)"
                               : std::string()));
  }
  return Status::success();
}

}  // namespace modelswarm::swarm
