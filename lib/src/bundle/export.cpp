#include <filesystem>

#include "bundle/bundle_format.hpp"
#include "modelswarm/bundle.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/minisign.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/release.hpp"

namespace modelswarm {

static_assert(kMaxBundleManifestBytes == kMaxManifestBytes,
              "every manifest a release may have must fit in a bundle");

Result<BundleStats> export_release_bundle(const std::filesystem::path& release_dir,
                                          const std::filesystem::path& out,
                                          const ExportOptions& options) {
  BundleSections sections;
  std::filesystem::path manifest_path = release_dir / kManifestPath;
  MS_ASSIGN_OR_RETURN(sections.manifest, read_small_file(manifest_path, kMaxManifestBytes));
  MS_ASSIGN_OR_RETURN(sections.signature,
                      read_small_file(release_dir / kSignaturePath, kMaxBundleSignatureBytes));
  MS_ASSIGN_OR_RETURN(Manifest m, parse_manifest(sections.manifest, manifest_path.string()));

  // The bundle is only useful if its signature verifies; check it against the publisher key the
  // manifest names (trust in that key is the importer's decision, not ours).
  MS_ASSIGN_OR_RETURN(PublicKey publisher, parse_public_key(m.publisher.public_key));
  TrustOptions self;
  self.trusted_keys = {publisher};
  self.allow_downgrade = true;
  auto verified = load_and_verify_manifest(sections.manifest, sections.signature, self);
  if (!verified.ok())
    return Error{verified.error().code, release_dir.string() + ": " + verified.error().message};

  std::filesystem::path torrent = release_dir / kTorrentPath;
  std::error_code ec;
  if (std::filesystem::exists(torrent, ec)) {
    MS_ASSIGN_OR_RETURN(sections.torrent, read_small_file(torrent, kMaxBundleTorrentBytes));
  }
  return write_bundle(out, sections, bundle_layout(m), release_dir, options.write);
}

}  // namespace modelswarm
