// seed: many releases from one session, started without reading the model data.
#include <map>
#include <optional>

#include "channel_keeper.hpp"
#include "gate.hpp"
#include "modelswarm/file_stamp.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/registry.hpp"
#include "serve_once.hpp"
#include "session_impl.hpp"
#include "source.hpp"

namespace modelswarm::swarm {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Seeded {
  lt::torrent_handle handle;
  std::string name, ih;
  fs::path dir;
  PeerTally tally;
};

// Marks verified the pieces of every file whose stamp matches the seed record this machine
// kept when it hashed the file (registry.hpp), so that seed_mode serves them without hashing;
// returns a one-line account for the `added` event.
std::string apply_seed_record(lt::add_torrent_params& atp, const fs::path& dir) {
  const lt::file_storage& files = atp.ti->files();
  auto entry = registered_by_id(info_hash_hex(atp.ti->info_hashes()));
  std::map<std::string, FileStamp> record;
  if (entry.ok() && *entry)
    for (const auto& st : (*entry)->stamps) record[st.path] = st;
  atp.verified_pieces.resize(atp.ti->num_pieces(), false);
  int total = 0, matched = 0;
  std::vector<std::string> changed;
  for (lt::file_index_t i : files.file_range()) {
    if (files.pad_file_at(i)) continue;
    ++total;
    std::string rel = release_path(files, i);
    auto it = record.find(rel);
    auto now = stamp_file(dir, rel);
    if (it == record.end() || !now.ok() || !now->same_file_state(it->second)) {
      if (it != record.end()) changed.push_back(rel);
      continue;
    }
    ++matched;
    if (files.file_size(i) == 0) continue;
    lt::piece_index_t first = files.piece_index_at_file(i);
    lt::piece_index_t last = files.map_file(i, files.file_size(i) - 1, 1).piece;
    for (lt::piece_index_t p = first; p <= last; ++p) atp.verified_pieces.set_bit(p);
  }
  if (record.empty()) return "no seed record: each piece is hashed before its first upload";
  std::string msg = std::to_string(matched) + " of " + std::to_string(total) +
                    " files unchanged since hashed here, served without hashing";
  if (!changed.empty()) {
    msg += "; changed since (hashed before first upload):";
    for (const auto& c : changed) msg += " " + c;
  }
  return msg;
}

// Checks one release directory and loads its torrent, file names mapped onto the directory:
// everything that needs no session.
Result<lt::add_torrent_params> load_release(const fs::path& dir_in, const SeedOptions& o, std::string* warning,
                                            PublicKey* publisher = nullptr) {
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::absolute(dir_in), ec);
  if (ec || !fs::is_directory(dir)) return Error::io(dir_in.string() + ": not a directory");
  // A link anywhere in the release could make the seeder serve bytes from outside it.
  for (std::string_view meta : {kTorrentPath, kManifestPath, kSignaturePath})
    MS_TRY(check_regular_in_release(dir, std::string(meta)));
  fs::path torrent_path = dir / std::string(kTorrentPath);
  MS_ASSIGN_OR_RETURN(lt::add_torrent_params atp, load_torrent(torrent_path.string()));
  MS_ASSIGN_OR_RETURN(std::string manifest, read_small_file(dir / std::string(kManifestPath), kMaxManifestBytes));
  MS_ASSIGN_OR_RETURN(std::string sig, read_small_file(dir / std::string(kSignaturePath), kMaxSignatureBytes));
  MS_ASSIGN_OR_RETURN(GateResult gate, check_release_metadata(manifest, sig, o.trusted_keys,
                                                              KeyPolicy::self_allowed, *atp.ti,
                                                              torrent_path.string()));
  *warning = gate.warning;
  if (publisher) *publisher = gate.verified.key;

  // The torrent's root is the release name; the directory may be called something else.
  const lt::file_storage& files = atp.ti->files();
  const std::string name = atp.ti->name();
  const std::string dirname = dir.filename().string();
  for (lt::file_index_t i : files.file_range()) {
    if (files.pad_file_at(i)) continue;
    std::string rel = release_path(files, i);
    fs::path on_disk = dir / rel;
    MS_TRY(check_regular_in_release(dir, rel));
    auto size = fs::file_size(on_disk, ec);
    if (ec) return Error::content(on_disk.string() + ": missing (" + ec.message() + ")");
    if (static_cast<std::int64_t>(size) != files.file_size(i))
      return Error::content(on_disk.string() + ": " + std::to_string(size) + " bytes, the torrent says " +
                            std::to_string(files.file_size(i)));
    if (dirname != name) atp.renamed_files[i] = dirname + "/" + rel;
  }
  atp.save_path = dir.parent_path().string();
  return atp;
}

// load_release, then what the session adds: totals of earlier runs, extensions, seed_mode and
// the seed record.
Result<lt::add_torrent_params> prepare_release(const Session::Impl& s, const fs::path& dir_in,
                                               const SeedOptions& o, std::string* warning,
                                               std::string* record_note, PublicKey* publisher) {
  MS_ASSIGN_OR_RETURN(lt::add_torrent_params atp, load_release(dir_in, o, warning, publisher));
  std::error_code ec;
  const fs::path dir = fs::weakly_canonical(fs::absolute(dir_in), ec);
  if (!o.resume_dir.empty()) {
    // Only totals are taken from earlier runs: what is on disk is described by the checks above.
    auto old = load_resume_file(o.resume_dir / (info_hash_hex(atp.ti->info_hashes()) + ".resume"));
    if (old.ok()) {
      atp.total_uploaded = old->total_uploaded;
      atp.total_downloaded = old->total_downloaded;
      atp.active_time = old->active_time;
      atp.seeding_time = old->seeding_time;
    }
  }
  s.apply_common(atp);
  if (s.settings.serve_once && !s.settings.super_seeding) atp.extensions.push_back(serve_once_plugin(atp.ti->num_pieces()));
  // Each piece not proven by the seed record is hashed before its first upload, so seeding
  // starts without reading the data.
  atp.flags |= lt::torrent_flags::seed_mode;
  *record_note = apply_seed_record(atp, dir);
  return atp;
}

}  // namespace

Status check_seed_options(const SeedOptions& o) {
  if (o.release_dirs.empty()) return Error::invalid_argument("seed: no release directory given");
  for (const auto& k : o.trusted_keys)
    if (auto key = load_public_key(k); !key.ok()) return key.error();
  std::map<std::string, fs::path> by_hash;
  for (const fs::path& dir : o.release_dirs) {
    std::string warning;
    MS_ASSIGN_OR_RETURN(lt::add_torrent_params atp, load_release(dir, o, &warning));
    auto [it, fresh] = by_hash.emplace(info_hash_hex(atp.ti->info_hashes()), dir);
    if (!fresh) return Error::invalid_argument(dir.string() + ": same release as " + it->second.string());
  }
  return Status::success();
}

namespace {

// One seed run, in its steps: add every release, serve until stopped, then pause, save totals
// and report per release.
class SeedRun {
 public:
  SeedRun(Session::Impl& s, const SeedOptions& o) : s_(s), o_(o) {}
  Status add_releases();
  void serve(const std::atomic<bool>& stop);
  void finish();

 private:
  Status add_release(const fs::path& dir);
  void on_alert(lt::alert* a);
  void warn(std::string name, std::string message) const;
  void tick(Clock::time_point now);
  void emit_progress();

  Session::Impl& s_;
  const SeedOptions& o_;
  std::map<lt::torrent_handle, Seeded> seeded_;
  std::vector<ChannelRef> channels_;
  std::optional<ChannelKeeper> keeper_;
  int dht_nodes_ = 0;
  bool dht_announced_ = false;
  Clock::time_point next_dht_stats_{}, next_tick_{}, next_reconnect_{};
};

Status SeedRun::add_releases() {
  for (const fs::path& dir : o_.release_dirs) MS_TRY(add_release(dir));
  keeper_.emplace(s_, std::move(channels_), o_.channel_refresh);
  return Status::success();
}

Status SeedRun::add_release(const fs::path& dir) {
  std::string warning, record_note;
  PublicKey publisher;
  MS_ASSIGN_OR_RETURN(lt::add_torrent_params atp, prepare_release(s_, dir, o_, &warning, &record_note, &publisher));
  if (atp.ti->name().size() <= kMaxChannelNameBytes) channels_.push_back({publisher, atp.ti->name()});
  Seeded r;
  r.name = atp.ti->name();
  r.ih = info_hash_hex(atp.ti->info_hashes());
  r.dir = dir;
  lt::error_code ec;
  r.handle = s_.ses->add_torrent(std::move(atp), ec);
  if (ec) return Error::network(dir.string() + ": cannot add torrent: " + ec.message());
  s_.connect_explicit_peers(r.handle);
  Event e;
  e.kind = Event::Kind::added;
  e.name = r.name;
  e.info_hash = r.ih;
  e.dir = dir.string();
  e.message = record_note;
  s_.emit(e);
  if (!warning.empty()) warn(r.name, warning);
  seeded_.emplace(r.handle, std::move(r));
  return Status::success();
}

void SeedRun::warn(std::string name, std::string message) const {
  Event e;
  e.kind = Event::Kind::warning;
  e.name = std::move(name);
  e.message = std::move(message);
  s_.emit(e);
}

void SeedRun::on_alert(lt::alert* a) {
  if (auto* st = lt::alert_cast<lt::dht_stats_alert>(a)) {
    dht_nodes_ = routing_nodes(*st);
    keeper_->set_dht_nodes(dht_nodes_);
    return;
  }
  if (keeper_->on_alert(a) || translate_common_alert(s_, a)) return;
  if (auto* te = lt::alert_cast<lt::torrent_error_alert>(a))
    warn(te->torrent_name(), te->filename() + std::string(": ") + te->error.message());
  else if (auto* fe = lt::alert_cast<lt::file_error_alert>(a))
    warn(fe->torrent_name(), std::string(fe->filename()) + ": " + fe->error.message());
}

void SeedRun::serve(const std::atomic<bool>& stop) {
  // libtorrent announces a torrent on the DHT when it is added and then every 15 minutes; a
  // seeder whose DHT had no node yet would stay unfindable that long. Announce again as soon as
  // the routing table holds a node.
  dht_announced_ = !s_.settings.dht;
  next_dht_stats_ = next_tick_ = Clock::now();
  next_reconnect_ = Clock::now() + std::chrono::seconds(3);
  while (!stop.load()) {
    for (lt::alert* a : s_.pop_alerts(std::chrono::milliseconds(200))) on_alert(a);
    tick(Clock::now());
  }
}

void SeedRun::tick(Clock::time_point now) {
  if (s_.settings.dht && now >= next_dht_stats_) {
    // Every second until the DHT is up, then every minute (the keeper's lookups wait on it).
    s_.ses->post_dht_stats();
    next_dht_stats_ = now + std::chrono::seconds(dht_nodes_ > 0 ? 60 : 1);
  }
  if (!dht_announced_ && dht_nodes_ > 0) {
    for (auto& [h, r] : seeded_) h.force_dht_announce();
    dht_announced_ = true;
  }
  keeper_->tick(now);
  if (now >= next_tick_) {
    next_tick_ = now + std::chrono::milliseconds(static_cast<int>(s_.settings.status_interval * 1000));
    emit_progress();
  }
  if (now >= next_reconnect_) {
    next_reconnect_ = now + std::chrono::seconds(3);
    for (auto& [h, r] : seeded_)
      if (h.status().num_peers < static_cast<int>(s_.explicit_peers.size())) s_.connect_explicit_peers(h);
  }
}

void SeedRun::emit_progress() {
  for (auto& [h, r] : seeded_) {
    lt::torrent_status st = h.status();
    r.tally.sample(h);
    Event e;
    e.kind = Event::Kind::progress;
    e.name = r.name;
    e.info_hash = r.ih;
    e.progress = make_progress(st, st.is_seeding ? "seeding" : "checking");
    s_.emit(e);
  }
}

void SeedRun::finish() {
  std::vector<lt::torrent_handle> handles;
  for (auto& [h, r] : seeded_) {
    h.pause(lt::torrent_handle::graceful_pause);
    handles.push_back(h);
  }
  if (!o_.resume_dir.empty()) {
    std::error_code ec;
    fs::create_directories(o_.resume_dir, ec);
    save_all_resume(
        s_, handles,
        [&](const lt::torrent_handle& h) {
          auto it = seeded_.find(h);
          return o_.resume_dir / ((it == seeded_.end() ? std::string("unknown") : it->second.ih) + ".resume");
        },
        {}, [this](lt::alert* a) { on_alert(a); });
  }
  for (auto& [h, r] : seeded_) {
    Event e;
    e.kind = Event::Kind::stopped;
    e.name = r.name;
    e.info_hash = r.ih;
    e.peers = r.tally.totals();
    s_.emit(e);
  }
}

}  // namespace

Status seed(Session& session, const SeedOptions& o, const std::atomic<bool>& stop) {
  MS_TRY(check_seed_options(o));
  SeedRun run(SessionAccess::of(session), o);
  MS_TRY(run.add_releases());
  run.serve(stop);
  run.finish();
  return Status::success();
}

}  // namespace modelswarm::swarm
