// The reuse engine's sources: every registered release whose manifest can still be read.
#include "modelswarm/paths.hpp"
#include "modelswarm/registry.hpp"
#include "modelswarm/store.hpp"

namespace modelswarm {

Result<std::vector<ReuseSource>> registered_sources(std::vector<std::string>* problems) {
  MS_ASSIGN_OR_RETURN(std::vector<RegistryEntry> entries, list_registered(problems));
  std::vector<ReuseSource> out;
  for (const auto& e : entries) {
    auto text = read_small_file(e.manifest, kMaxManifestBytes);
    if (!text.ok()) {
      if (problems) problems->push_back(e.name + " version " + std::to_string(e.version) + ": " + text.error().message);
      continue;
    }
    auto m = parse_manifest(*text, e.manifest.string());
    if (!m.ok()) {
      if (problems) problems->push_back(m.error().message);
      continue;
    }
    out.push_back({e.dir, std::move(m).value()});
  }
  return out;
}

Result<ReuseReport> reuse_registered(const Manifest& target, const std::filesystem::path& target_dir,
                                     const ReuseOptions& options) {
  std::vector<std::string> problems;
  MS_ASSIGN_OR_RETURN(std::vector<ReuseSource> sources, registered_sources(&problems));
  MS_ASSIGN_OR_RETURN(ReuseReport rep, reuse_chunks(target, target_dir, sources, options));
  rep.warnings.insert(rep.warnings.begin(), problems.begin(), problems.end());
  return rep;
}

}  // namespace modelswarm
