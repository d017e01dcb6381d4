// "Cheaply if already verified": a release that verified once is not hashed again while nothing
// that verification depended on has changed. The stamp's name is a hash of all of it.
#include <sys/stat.h>

#include <algorithm>

#include "modelswarm/paths.hpp"
#include "modelswarm/release.hpp"
#include "modelswarm/sha256.hpp"
#include "modelswarm/trust.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

void add_field(Sha256& h, std::string_view s) {
  uint64_t n = s.size();
  h.update(&n, sizeof n);
  h.update(s.data(), s.size());
}

Result<std::string> state_key(const fs::path& dir, const std::vector<PublicKey>& keys) {
  Sha256 h;
  for (const char* name : {"manifest.json", "manifest.json.minisig"}) {
    MS_ASSIGN_OR_RETURN(std::string bytes, read_small_file(dir / kReleaseMetaDir / name, kMaxManifestBytes));
    add_field(h, bytes);
  }
  std::vector<std::string> trusted;
  for (const auto& k : keys) trusted.push_back(k.to_base64());
  std::sort(trusted.begin(), trusted.end());
  for (const auto& t : trusted) add_field(h, t);
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(dir, ec);
  add_field(h, (ec ? dir : canon).string());

  std::vector<std::string> lines;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    fs::path rel = it->path().lexically_relative(dir);
    if (!rel.empty() && *rel.begin() == ".modelswarm") {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (lstat(it->path().c_str(), &st) != 0) return Error::io(it->path().string() + ": cannot stat");
    lines.push_back(rel.generic_string() + '\0' + std::to_string(st.st_mode) + ':' + std::to_string(st.st_size) +
                    ':' + std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + ':' + std::to_string(st.st_ctim.tv_sec) + '.' +
                    std::to_string(st.st_ctim.tv_nsec) + ':' +
                    std::to_string(st.st_ino));
  }
  if (ec) return Error::io(dir.string() + ": cannot list: " + ec.message());
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) add_field(h, l);
  Sha256Digest d = h.finish();
  return to_hex(d);
}

}  // namespace

Result<StampedVerify> verify_release_stamped(const fs::path& dir, const VerifyOptions& options) {
  MS_ASSIGN_OR_RETURN(std::string key, state_key(dir, options.trust.trusted_keys));
  fs::path stamp = state_dir() / "verified" / key;
  StampedVerify out;
  std::error_code ec;
  if (fs::exists(stamp, ec)) {
    out.from_stamp = true;
    return out;
  }
  MS_ASSIGN_OR_RETURN(VerifyReport r, verify_release(dir, options));
  if (!r.ok()) {
    const ContentProblem& p = r.content.problems.front();
    return Error::content(p.message + " (" + std::to_string(r.content.problems.size()) +
                          " problem(s); run `modelswarm verify` for all)");
  }
  out.name = r.verified.manifest.name;
  out.version = r.verified.manifest.version;
  MS_ASSIGN_OR_RETURN(fs::path state, ensure_state_dir());
  fs::create_directories(state / "verified", ec);
  if (ec) return Error::io((state / "verified").string() + ": cannot create: " + ec.message());
  MS_TRY(write_file_atomic(stamp, out.name + " " + std::to_string(out.version) + "\n"));
  return out;
}

}  // namespace modelswarm
