#include <fcntl.h>
#include <stdio.h>

#include <chrono>
#include <span>
#include <sstream>

#include "modelswarm/channel.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/minisign.hpp"
#include "modelswarm/mirror.hpp"
#include "modelswarm/registry.hpp"
#include "modelswarm/release.hpp"
#include "util/file_io.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

// Fetches land here first, so that a newer version can be swapped in atomically and a killed
// run resumes from the fetch's own staging (dest/.modelswarm-mirror/.modelswarm-partial/).
constexpr const char* kMirrorStaging = ".modelswarm-mirror";

// The first `limit` bytes of `p` (fewer when it is shorter); empty when it cannot be read.
std::string read_text(const fs::path& p, size_t limit) {
  auto fd = file_io::open_read(p);
  if (!fd.ok()) return {};
  std::string s(limit, '\0');
  auto n = file_io::pread_upto(fd->get(), std::span(reinterpret_cast<uint8_t*>(s.data()), s.size()), 0, p.string());
  s.resize(n.ok() ? *n : 0);
  return s;
}

// The source to use now: the tracked pointer when it is readable, else the configured source.
std::string current_source(const MirrorEntry& e) {
  if (!e.track) return e.source;
  std::error_code ec;
  if (!fs::is_regular_file(*e.track, ec)) return e.source;
  std::string head = read_text(*e.track, 8192);
  if (head.rfind("magnet:", 0) == 0) {
    auto end = head.find_first_of("\r\n \t");
    return head.substr(0, end);
  }
  return e.track->string();  // the tracked file is itself a .torrent
}

Result<std::vector<PublicKey>> load_keys(const std::vector<std::string>& keys) {
  std::vector<PublicKey> out;
  for (const auto& k : keys) {
    MS_ASSIGN_OR_RETURN(PublicKey pk, load_public_key(k));
    out.push_back(pk);
  }
  return out;
}

// True when `dir` holds the release signed by a trusted key with every file at its signed size.
// Reads only the manifest and the file sizes: a mirror re-run must be fast.
Result<Manifest> holds_release(const fs::path& dir, const std::vector<PublicKey>& keys) {
  std::string manifest = read_text(dir / std::string(kManifestPath), kMaxManifestBytes + 1);
  std::string sig = read_text(dir / std::string(kSignaturePath), kMaxSignatureBytes);
  if (manifest.empty() || sig.empty())
    return Error::content(dir.string() + ": no signed manifest");
  TrustOptions trust;
  trust.trusted_keys = keys;
  trust.allow_downgrade = true;  // what we hold may be older than a version seen elsewhere
  MS_ASSIGN_OR_RETURN(VerifiedManifest vm, load_and_verify_manifest(manifest, sig, trust));
  for (const auto& f : vm.manifest.files) {
    std::error_code ec;
    fs::path p = dir / f.path;
    MS_TRY(check_regular_in_release(dir, f.path));
    if (fs::file_size(p, ec) != f.size) return Error::content(p.string() + ": not the signed size");
  }
  return std::move(vm.manifest);
}

// Replaces only what the mirror may replace: nothing, an empty directory, or an earlier
// release of the same name by a key this entry trusts. Anything else at final_dir is the
// user's and is refused the way fetch and import refuse it.
Status swap_into_place(const fs::path& fetched, const fs::path& final_dir, const std::string& name,
                       const std::vector<PublicKey>& keys, bool* replaced) {
  std::error_code ec;
  Status free_dest = check_release_destination(final_dir);
  *replaced = !free_dest.ok();
  if (*replaced) {
    if (fs::is_symlink(fs::symlink_status(final_dir, ec))) return free_dest;
    auto held = holds_release(final_dir, keys);
    if (!held || held->name != name) return free_dest;
  }
  if (!*replaced) {
    fs::rename(fetched, final_dir, ec);
    if (ec) return Error::io(final_dir.string() + ": cannot move the release into place: " + ec.message());
    return Status::success();
  }
  // One atomic step: readers see either the old release or the new one, never a mixture.
  if (renameat2(AT_FDCWD, fetched.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) != 0)
    return Error::io(final_dir.string() + ": cannot swap in the new version: " +
                     std::error_code(errno, std::generic_category()).message());
  fs::remove_all(fetched, ec);  // now the old version
  return Status::success();
}

// The item a channel source points at now; a lower version than one seen here is refused
// (fetch records the item once it checks the release).
Result<ChannelItem> resolve_for_mirror(swarm::Session& session, const std::string& source,
                                       const MirrorOptions& options, const std::atomic<bool>& stop) {
  MS_ASSIGN_OR_RETURN(ChannelRef ref, parse_channel_ref(source));
  swarm::ChannelLookupOptions lookup;
  lookup.dht_wait = options.stall_timeout;
  MS_ASSIGN_OR_RETURN(std::optional<ChannelItem> item, swarm::resolve_channel(session, ref, lookup, stop));
  if (!item) return Error::network("channel " + source + ": no DHT node holds an item for it");
  MS_TRY(swarm::check_channel_floor(*item));
  return std::move(*item);
}

// Fills `r` (its info_hash set) as up to date when a registered entry in e.dest holds it.
bool held_in_dest(const std::vector<RegistryEntry>& registered, const MirrorEntry& e,
                  const std::vector<PublicKey>& keys, MirrorResult& r) {
  for (const auto& entry : registered) {
    if (entry.info_hash != r.info_hash || entry.dir.parent_path() != fs::absolute(e.dest)) continue;
    auto held = holds_release(entry.dir, keys);
    if (!held) continue;  // damaged or replaced: fetch again
    r.status = MirrorResult::Status::up_to_date;
    r.name = held->name;
    r.version = static_cast<std::int64_t>(held->version);
    r.dir = entry.dir;
    return true;
  }
  return false;
}

MirrorResult mirror_one(swarm::Session& session, const MirrorEntry& e, const std::atomic<bool>& stop,
                        const MirrorOptions& options) {
  MirrorResult r;
  r.source = current_source(e);
  auto fail = [&](Error err) {
    r.status = MirrorResult::Status::failed;
    r.error = std::move(err);
    return r;
  };
  std::vector<std::string> trust = e.trust;
  std::optional<ChannelItem> channel;
  if (looks_like_channel(r.source)) {
    auto item = resolve_for_mirror(session, r.source, options, stop);
    if (!item) return fail(item.error());
    channel = std::move(*item);
    trust.push_back(channel->channel.key.to_base64());
    r.info_hash = channel->info_hash;
  }
  auto keys = load_keys(trust);
  if (!keys) return fail(keys.error());

  if (!channel) {
    auto ih = swarm::source_info_hash(r.source, options.http, &stop);
    if (!ih) return fail(ih.error());
    r.info_hash = *ih;
  }

  auto registered = list_registered();
  if (!registered) return fail(registered.error());
  if (held_in_dest(*registered, e, *keys, r)) return r;

  std::error_code ec;
  fs::path staging = fs::absolute(e.dest) / kMirrorStaging;
  fs::create_directories(staging, ec);
  if (ec) return fail(Error::io(staging.string() + ": cannot create: " + ec.message()));
  // A completed fetch that a crash kept from being swapped in: its resume data lets the next
  // fetch recheck instead of re-download, so only the verified tree itself is dropped.
  for (const auto& de : fs::directory_iterator(staging, ec))
    if (de.path().filename() != ".modelswarm-partial") fs::remove_all(de.path(), ec);

  swarm::FetchOptions fo;
  fo.source = channel ? channel_magnet(*channel) : r.source;
  fo.channel = channel;
  fo.trusted_keys = trust;
  fo.out_dir = staging;
  fo.stall_timeout = options.stall_timeout;
  fo.http = options.http;
  auto fetched = swarm::fetch(session, fo, stop);
  if (!fetched) return fail(fetched.error());
  r.name = fetched->name;
  r.version = fetched->version;
  r.bytes_downloaded = fetched->payload_downloaded;

  fs::path final_dir = fs::absolute(e.dest) / fetched->name;
  bool replaced = false;
  if (Status st = swap_into_place(fetched->release_dir, final_dir, fetched->name, *keys, &replaced); !st.ok())
    return fail(st.error());
  r.dir = final_dir;
  r.status = replaced ? MirrorResult::Status::updated : MirrorResult::Status::fetched;

  // The registry must point at where the release now lives (this also drops the entry of the
  // version it replaced).
  auto held = holds_release(final_dir, *keys);
  if (!held) return fail(held.error());
  if (Status st = register_release_dir(final_dir, *held, fetched->stamps); !st.ok()) return fail(st.error());
  return r;
}

}  // namespace

std::optional<MirrorResult> find_held_release(const MirrorEntry& e, const MirrorOptions& options,
                                              const std::atomic<bool>& stop) {
  MirrorResult r;
  r.source = current_source(e);
  auto keys = load_keys(e.trust);
  if (!keys) return std::nullopt;
  auto ih = swarm::source_info_hash(r.source, options.http, &stop);
  if (!ih) return std::nullopt;
  r.info_hash = *ih;
  auto registered = list_registered();
  if (!registered || !held_in_dest(*registered, e, *keys, r)) return std::nullopt;
  return r;
}

Result<Manifest> check_held_release(const fs::path& dir, const std::vector<std::string>& trust) {
  MS_ASSIGN_OR_RETURN(std::vector<PublicKey> keys, load_keys(trust));
  return holds_release(dir, keys);
}

std::vector<MirrorResult> run_mirror(swarm::Session& session, const MirrorFile& file,
                                     const MirrorOptions& options, const std::atomic<bool>& stop) {
  std::vector<MirrorResult> results;
  for (const auto& e : file.releases) {
    auto start = std::chrono::steady_clock::now();
    MirrorResult r;
    if (stop.load()) {
      r.source = e.source;
      r.error = Error::interrupted("interrupted before " + e.source);
    } else {
      r = mirror_one(session, e, stop, options);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (options.on_result) options.on_result(r);
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace modelswarm
