// The channel item of a packed release directory (channel.hpp).
#include <algorithm>

#include "modelswarm/channel.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/release.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {
void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const auto& x : from)
    if (std::find(to.begin(), to.end(), x) == to.end()) to.push_back(x);
}
}  // namespace

Result<ChannelItem> channel_item_for_release(const fs::path& dir, const SecretKey& key,
                                             const std::vector<std::string>& extra_trackers,
                                             const std::vector<std::string>& extra_web_seeds) {
  for (std::string_view meta : {kManifestPath, kSignaturePath, kTorrentPath})
    MS_TRY(check_regular_in_release(dir, std::string(meta)));
  MS_ASSIGN_OR_RETURN(std::string manifest, read_small_file(dir / std::string(kManifestPath), kMaxManifestBytes));
  MS_ASSIGN_OR_RETURN(std::string sig, read_small_file(dir / std::string(kSignaturePath), kMaxSignatureBytes));
  TrustOptions trust;
  trust.trusted_keys = {key.public_key()};
  // The publisher may announce any version it signed, an older one included (a withdrawal).
  trust.allow_downgrade = true;
  auto verified = load_and_verify_manifest(manifest, sig, trust);
  if (!verified)
    return Error{verified.error().code, dir.string() + ": " + verified.error().message +
                                            (verified.error().code == ErrorCode::trust
                                                 ? " (publish announces releases signed by --key only)"
                                                 : "")};
  MS_ASSIGN_OR_RETURN(TorrentSummary summary,
                      read_release_torrent(dir / std::string(kTorrentPath), &verified->manifest));
  std::vector<std::string> trackers = summary.trackers, web_seeds = summary.web_seeds;
  add_unique(trackers, extra_trackers);
  add_unique(web_seeds, extra_web_seeds);
  ChannelRef ref{key.public_key(), verified->manifest.name};
  return make_channel_item(ref, verified->manifest.version, summary.info_hash_v2, trackers, web_seeds, key);
}

}  // namespace modelswarm
