// fetch: metadata -> the two .modelswarm files -> manifest checks -> model data (merkle-checked
// by libtorrent) -> directory check -> one rename of the staging directory into place. See
// swarm.hpp for the contract.
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/write_resume_data.hpp>

#include <future>
#include <set>

#include "chunk_watch.hpp"
#include "gate.hpp"
#include "reserve.hpp"
#include "reuse_step.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/registry.hpp"
#include "modelswarm/release.hpp"
#include "modelswarm/staging.hpp"
#include "modelswarm/store.hpp"
#include "modelswarm/trust.hpp"
#include "serve_once.hpp"
#include "session_impl.hpp"
#include "source.hpp"

namespace modelswarm::swarm {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kResumeInterval = std::chrono::seconds(2);
constexpr auto kReconnectInterval = std::chrono::seconds(3);

enum class Stage { metadata, manifest, reusing, rechecking, downloading, flushing, verifying, placing, seeding };

const char* stage_name(Stage s) {
  switch (s) {
    case Stage::metadata: return "metadata";
    case Stage::manifest: return "manifest";
    case Stage::reusing: return "reusing";
    case Stage::rechecking: return "checking";
    case Stage::downloading: return "downloading";
    case Stage::flushing:
    case Stage::verifying: return "verifying";
    case Stage::placing: return "placing";
    case Stage::seeding: return "seeding";
  }
  return "downloading";
}

// One of the two signed files, read back through libtorrent (its disk layer may still hold
// blocks that are not in the file yet).
struct MetaFile {
  lt::file_index_t index{-1};
  std::int64_t size = 0;
  std::set<lt::piece_index_t> pieces;  // pieces still to read
  std::string bytes;
  bool requested = false;
};

class Fetch {
 public:
  Fetch(Session::Impl& s, const FetchOptions& o, const std::atomic<bool>& stop)
      : s_(s), o_(o), stop_(stop) {}

  Result<FetchResult> run();

 private:
  Status prepare();
  Status on_metadata();
  Status maybe_read_manifest();
  Status on_read_piece(const lt::read_piece_alert& a);
  Status on_manifest_ready();
  Status start_reuse();
  Status on_reuse_done(Result<ReuseReport> r);
  Status start_download();
  // Space for the files with these indices (all when empty), when writes go through mmap.
  Status reserve(const std::vector<lt::file_index_t>& only);
  void maybe_start_verify(const lt::torrent_status& st);
  // Once the download is complete and the chunk watch has caught up: straight to the final
  // check when every chunk matched on the way, else after libtorrent has flushed its buffers.
  void maybe_finish_watch();
  void start_final_check();
  // libtorrent closes connections to seeds once a torrent has every piece it wants: after the
  // two signed files, it would drop the very peers the model data then has to come from.
  void keep_seed_connections(bool keep);
  void recheck() {
    rechecked_ = true;
    h_.force_recheck();
  }
  struct ReleaseTorrent {
    std::string bytes;  // empty when it could not be written (a warning was emitted)
    std::shared_ptr<lt::torrent_info> ti;
  };
  Result<ReleaseTorrent> release_torrent(const fs::path& final_dir);
  Status place_release();
  Status handle_alert(lt::alert* a);
  void tick(bool force);
  Error fail(Error e);
  void save_resume_async();
  Event event(Event::Kind kind) const;

  Session::Impl& s_;
  const FetchOptions& o_;
  const std::atomic<bool>& stop_;

  lt::add_torrent_params atp_;
  std::string torrent_bytes_;  // the source .torrent, when not a magnet link
  lt::torrent_handle h_;
  std::shared_ptr<const lt::torrent_info> ti_;
  std::string ih_;
  std::string name_;
  fs::path partial_root_, staging_, resume_path_;
  Stage stage_ = Stage::metadata;
  MetaFile manifest_file_, signature_file_;
  std::optional<VerifiedManifest> verified_;
  const Manifest* manifest_ = nullptr;  // &verified_->manifest once the gate passed
  // Declared before verify_: the final check reads the watch's results until verify_ is done.
  std::unique_ptr<ChunkWatch> watch_;
  bool flush_requested_ = false;
  std::future<Status> verify_;
  std::future<Result<ReuseReport>> reuse_;
  StagingLease lease_;
  std::int64_t full_size_ = 0;
  PeerTally tally_;
  Progress last_;
  Clock::time_point next_tick_{}, next_resume_{}, next_reconnect_{};
  Clock::time_point next_dht_lookup_ = Clock::now() + std::chrono::seconds(30);
  bool resume_pending_ = false;
  std::optional<Clock::time_point> nudge_at_;
  bool piece_layers_known_ = false;
  bool rechecked_ = false;  // pieces were taken from disk (see start_download)
  std::set<lt::piece_index_t> received_pieces_;  // pieces with blocks from peers this run
  // Stall detection: the last time a byte arrived or the fetch moved on a step.
  Clock::time_point last_step_at_ = Clock::now();
  std::int64_t last_bytes_ = -1;
  Stage last_stage_ = Stage::metadata;
  int dht_nodes_ = -1;
  void describe_sources(Progress& p, const lt::torrent_status& st);
  void check_stall(Clock::time_point now);
  bool done_ = false;
  std::optional<Error> error_;
  FetchResult result_;
};

// A channel's item names a release (key, name, version); the manifest must be that release, or
// whoever controls the info-hash could pass off another release of a key the user trusts.
Status check_channel_release(const ChannelItem& item, const VerifiedManifest& v) {
  const std::string where = "channel " + key_id_hex(item.channel.key.id) + "/" + item.channel.name + ": ";
  if (!(v.key == item.channel.key))
    return Error::trust(where + "the release is signed by key " + key_id_hex(v.key.id) + ", not the channel's");
  if (v.manifest.name != item.channel.name)
    return Error::trust(where + "the release is named '" + v.manifest.name + "', not '" + item.channel.name + "'");
  if (v.manifest.version != static_cast<std::uint64_t>(item.seq))
    return Error::trust(where + "the release is version " + std::to_string(v.manifest.version) +
                        ", the channel announces version " + std::to_string(item.seq));
  return Status::success();
}

// A release is a v2 torrent: its signed pieces roots are what prove each downloaded byte.
Status require_v2(const Source& src, const std::string& origin) {
  bool v2 = src.atp.ti ? src.atp.ti->v2() : src.atp.info_hashes.has_v2();
  if (!v2)
    return Error::unsupported(origin + ": a v1-only torrent (SHA-1 info-hash); modelswarm releases are "
                                       "BitTorrent v2 (magnet xt=urn:btmh:..., or the release's .torrent)");
  return Status::success();
}

Event Fetch::event(Event::Kind kind) const {
  Event e;
  e.kind = kind;
  e.name = name_;
  e.info_hash = ih_;
  e.progress = last_;
  return e;
}

Error Fetch::fail(Error e) {
  if (!error_) error_ = e;
  return e;
}

Status Fetch::prepare() {
  MS_ASSIGN_OR_RETURN(Source src, params_from_source(o_.source, o_.http, &stop_));
  MS_TRY(require_v2(src, o_.source));
  atp_ = std::move(src.atp);
  torrent_bytes_ = std::move(src.torrent);
  ih_ = info_hash_hex(atp_.ti ? atp_.ti->info_hashes() : atp_.info_hashes);
  partial_root_ = o_.out_dir / ".modelswarm-partial";
  staging_ = partial_root_ / ih_;
  resume_path_ = partial_root_ / (ih_ + ".resume");
  MS_ASSIGN_OR_RETURN(lease_, StagingLease::acquire(o_.out_dir, ih_));
  std::error_code ec;
  fs::create_directories(staging_, ec);
  if (ec) return Error::io(staging_.string() + ": cannot create: " + ec.message());

  if (fs::exists(resume_path_, ec)) {
    auto resumed = load_resume_file(resume_path_);
    if (resumed.ok() && info_hash_hex(resumed->info_hashes) == ih_) {
      lt::add_torrent_params r = std::move(resumed).value();
      if (atp_.ti) r.ti = atp_.ti;  // the .torrent carries the piece layers
      for (auto& u : atp_.url_seeds) r.url_seeds.push_back(u);
      for (auto& t : atp_.trackers) r.trackers.push_back(t);
      r.tracker_tiers.clear();
      atp_ = std::move(r);
    }
  }
  for (const auto& u : o_.web_seeds) atp_.url_seeds.push_back(u);
  MS_TRY(s_.trust_web_seed_ca(o_.http.ca_file));
  atp_.save_path = staging_.string();
  // Nothing but the two signed files may be downloaded before the manifest is checked: every
  // file starts at priority 0, whatever an earlier run's resume data said.
  atp_.file_priorities.clear();
  atp_.flags |= lt::torrent_flags::default_dont_download;
  atp_.flags &= ~(lt::torrent_flags::seed_mode | lt::torrent_flags::upload_mode |
                  lt::torrent_flags::super_seeding);
  s_.apply_common(atp_);
  piece_layers_known_ = atp_.ti && atp_.ti->v2_piece_hashes_verified();
  if (atp_.flags & lt::torrent_flags::super_seeding)
    atp_.flags &= ~lt::torrent_flags::super_seeding;
  keep_seed_connections(true);
  lt::error_code lec;
  h_ = s_.ses->add_torrent(atp_, lec);
  if (lec) return Error::network(o_.source + ": cannot add torrent: " + lec.message());
  s_.connect_explicit_peers(h_);
  // A run that was killed leaves pieces in the staging files that its last resume data may not
  // list yet: hash what is on disk rather than fetch those pieces again.
  bool staged = false;
  for (auto it = fs::recursive_directory_iterator(staging_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    staged = staged || it->is_regular_file();
  if (staged && h_.torrent_file()) recheck();
  if (h_.torrent_file()) return on_metadata();
  name_ = atp_.name;
  s_.emit(event(Event::Kind::added));
  return Status::success();
}

Status Fetch::on_metadata() {
  if (ti_) return Status::success();
  ti_ = h_.torrent_file();
  if (!ti_) return Error::internal("metadata alert without metadata");
  name_ = ti_->name();
  if (Status st = validate_release_name(name_); !st.ok())
    return Error::format("torrent name '" + name_ + "': " + st.error().message);
  fs::path final_dir = o_.out_dir / name_;
  MS_TRY(check_release_destination(final_dir));
  const lt::file_storage& files = ti_->files();
  const std::string prefix = name_ + "/";
  for (lt::file_index_t i : files.file_range()) {
    if (files.pad_file_at(i)) continue;
    full_size_ += files.file_size(i);
    std::string path = files.file_path(i, "");
    for (char& c : path)
      if (c == '\\') c = '/';
    MetaFile* m = path == prefix + std::string(kManifestPath)    ? &manifest_file_
                  : path == prefix + std::string(kSignaturePath) ? &signature_file_
                                                                 : nullptr;
    if (!m) continue;
    m->index = i;
    m->size = files.file_size(i);
  }
  if (manifest_file_.index < lt::file_index_t{0} || signature_file_.index < lt::file_index_t{0})
    return Error::content(o_.source + ": the torrent has no " + std::string(kManifestPath) +
                          " and " + std::string(kSignaturePath) + "; refusing to download it");
  if (manifest_file_.size > static_cast<std::int64_t>(kMaxManifestBytes) ||
      signature_file_.size > static_cast<std::int64_t>(kMaxSignatureBytes) || signature_file_.size == 0 || manifest_file_.size == 0)
    return Error::content(o_.source + ": manifest or signature has an implausible size");
  for (MetaFile* m : {&manifest_file_, &signature_file_}) {
    lt::peer_request first = files.map_file(m->index, 0, 1);
    lt::peer_request last = files.map_file(m->index, m->size - 1, 1);
    for (lt::piece_index_t p = first.piece; p <= last.piece; ++p) m->pieces.insert(p);
  }
  std::vector<lt::download_priority_t> prio(static_cast<size_t>(files.num_files()),
                                            lt::dont_download);
  MS_TRY(reserve({manifest_file_.index, signature_file_.index}));
  prio[static_cast<size_t>(static_cast<int>(manifest_file_.index))] = lt::top_priority;
  prio[static_cast<size_t>(static_cast<int>(signature_file_.index))] = lt::top_priority;
  h_.prioritize_files(prio);
  stage_ = Stage::manifest;
  Event e = event(Event::Kind::metadata);
  e.dir = (o_.out_dir / name_).string();
  s_.emit(e);
  return Status::success();
}

Status Fetch::maybe_read_manifest() {
  if (stage_ != Stage::manifest || manifest_file_.requested) return Status::success();
  for (const MetaFile* m : {&manifest_file_, &signature_file_})
    for (lt::piece_index_t p : m->pieces)
      if (!h_.have_piece(p)) return Status::success();
  for (MetaFile* m : {&manifest_file_, &signature_file_}) {
    m->requested = true;
    for (lt::piece_index_t p : m->pieces) h_.read_piece(p);
  }
  return Status::success();
}

Status Fetch::on_read_piece(const lt::read_piece_alert& a) {
  if (a.error)
    return Error::io(staging_.string() + ": cannot read back piece " +
                     std::to_string(static_cast<int>(a.piece)) + ": " + a.error.message());
  const lt::file_storage& files = ti_->files();
  for (MetaFile* m : {&manifest_file_, &signature_file_}) {
    if (!m->pieces.count(a.piece)) continue;
    // v2 torrents align every file to a piece boundary, so the file's bytes are the pieces'
    // bytes in order, cut to the file size. Pieces arrive in any order: place by offset.
    lt::peer_request first = files.map_file(m->index, 0, 1);
    std::int64_t file_off = static_cast<std::int64_t>(static_cast<int>(a.piece) -
                                                      static_cast<int>(first.piece)) *
                                ti_->piece_length() - first.start;
    if (m->bytes.size() != static_cast<size_t>(m->size)) m->bytes.assign(static_cast<size_t>(m->size), '\0');
    std::int64_t from = std::max<std::int64_t>(0, -file_off);
    std::int64_t to = std::min<std::int64_t>(a.size, m->size - file_off);
    if (to > from)
      std::memcpy(m->bytes.data() + file_off + from, a.buffer.get() + from,
                  static_cast<size_t>(to - from));
    m->pieces.erase(a.piece);
  }
  if (manifest_file_.requested && manifest_file_.pieces.empty() && signature_file_.pieces.empty())
    return on_manifest_ready();
  return Status::success();
}

Status Fetch::on_manifest_ready() {
  MS_ASSIGN_OR_RETURN(GateResult gate,
                      check_release_metadata(manifest_file_.bytes, signature_file_.bytes,
                                             o_.trusted_keys, KeyPolicy::strict, *ti_, o_.source));
  verified_ = std::move(gate.verified);
  manifest_ = &verified_->manifest;
  if (o_.channel) MS_TRY(check_channel_release(*o_.channel, *verified_));
  if (manifest_->name != name_)
    return Error::content(o_.source + ": torrent name '" + name_ + "' differs from the manifest's '" +
                          manifest_->name + "'");
  Event e = event(Event::Kind::manifest_verified);
  e.message = manifest_->publisher.public_key;
  s_.emit(e);
  return o_.reuse ? start_reuse() : start_download();
}

// Before any model data is requested: copy every chunk a registered release holds into the
// staging files (hash-checked, see store.hpp), then let libtorrent recheck them so that it
// downloads only the pieces still incomplete.
Status Fetch::start_reuse() {
  ReuseOptions ro;
  ro.already_present = chunks_already_had(h_, *ti_, name_, *manifest_);
  ro.cancel = &stop_;
  Manifest m = *manifest_;
  fs::path dir = staging_ / name_;
  reuse_ = std::async(std::launch::async, [m, dir, ro] { return reuse_registered(m, dir, ro); });
  stage_ = Stage::reusing;
  return Status::success();
}

Status Fetch::on_reuse_done(Result<ReuseReport> r) {
  if (!r.ok()) return r.error();
  result_.bytes_reused = static_cast<std::int64_t>(r->bytes_reused);
  Event e = event(Event::Kind::reused);
  describe_reuse(*r, *manifest_, ti_->piece_length(), e);
  e.progress.reused = result_.bytes_reused;
  s_.emit(e);
  if (r->bytes_reused == 0) return start_download();
  recheck();
  stage_ = Stage::rechecking;
  return Status::success();
}

Status Fetch::reserve(const std::vector<lt::file_index_t>& only) {
  if (s_.settings.disk == DiskBackend::posix) return Status::success();  // ENOSPC is an error there
  const lt::file_storage& files = ti_->files();
  std::vector<std::pair<fs::path, std::int64_t>> wanted;
  for (lt::file_index_t i : files.file_range()) {
    if (files.pad_file_at(i)) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), i) == only.end()) continue;
    wanted.emplace_back(staging_ / files.file_path(i, ""), files.file_size(i));
  }
  return reserve_files(wanted);
}

Status Fetch::start_download() {
  MS_TRY(reserve({}));
  std::vector<lt::download_priority_t> prio(static_cast<size_t>(ti_->files().num_files()),
                                            lt::default_priority);
  h_.prioritize_files(prio);
  keep_seed_connections(false);
  stage_ = Stage::downloading;
  // Every piece libtorrent verifies against the signed roots is proven: no second hash. Pieces
  // it took from disk before it had the piece layers (a magnet link with a resumed or reused
  // staging) are "finished but not yet verified" in libtorrent 2.0.8, so their chunks are
  // hashed against the manifest, as every chunk is with --paranoid.
  if (!o_.paranoid && !(rechecked_ && !piece_layers_known_)) return Status::success();
  watch_ = std::make_unique<ChunkWatch>(*manifest_, *ti_, staging_);
  lt::torrent_status st = h_.status(lt::torrent_handle::query_pieces);
  for (lt::piece_index_t p(0); p < lt::piece_index_t(st.pieces.size()); ++p)
    if (st.pieces.get_bit(p)) watch_->piece_done(p);
  return Status::success();
}

void Fetch::keep_seed_connections(bool keep) {
  lt::settings_pack p;
  p.set_bool(lt::settings_pack::close_redundant_connections, !keep);
  s_.ses->apply_settings(std::move(p));
}

void Fetch::maybe_start_verify(const lt::torrent_status& st) {
  // total_wanted lags behind prioritize_files(); only trust is_finished once it covers all.
  if (stage_ != Stage::downloading || !st.is_finished || st.total_wanted < full_size_ ||
      st.total_wanted_done < st.total_wanted)
    return;
  stage_ = Stage::flushing;
  tally_.sample(h_);  // before the connections close: a fast source can finish between ticks
  maybe_finish_watch();
}

void Fetch::maybe_finish_watch() {
  if (stage_ != Stage::flushing || flush_requested_ || (watch_ && !watch_->idle())) return;
  // Without a watch no byte is read back: nothing to flush first.
  if (!watch_ || watch_->all_verified()) return start_final_check();
  flush_requested_ = true;
  h_.flush_cache();
}

void Fetch::start_final_check() {
  stage_ = Stage::verifying;
  tick(true);
  fs::path dir = staging_ / name_;
  Manifest m = *manifest_;
  ChunkCheckOptions co;
  if (watch_) co.already_verified = watch_->verified();
  else co.already_verified = [](size_t, size_t) { return true; };  // proven piece by piece
  verify_ = std::async(std::launch::async, [dir, m, co] { return check_chunks(dir, m, co); });
}

// The .torrent to keep beside the release: the source's own bytes when it was a .torrent (its
// piece layers were checked when it was loaded); after a magnet link, one rebuilt from the
// merkle trees libtorrent verified, which come with the resume data (rebuilding re-hashes
// every tree: about a second per GiB, so it is not done when the bytes are at hand).
Result<Fetch::ReleaseTorrent> Fetch::release_torrent(const fs::path& final_dir) {
  ReleaseTorrent rt;
  if (!torrent_bytes_.empty()) {
    try {
      rt.ti = lt::load_torrent_buffer({torrent_bytes_.data(), static_cast<std::ptrdiff_t>(torrent_bytes_.size())}).ti;
    } catch (const std::exception& ex) {
      return Error::internal(o_.source + ": cannot load the torrent again: " + ex.what());
    }
    rt.bytes = torrent_bytes_;
    return rt;
  }
  h_.save_resume_data(lt::torrent_handle::save_info_dict);
  auto wait_until = Clock::now() + std::chrono::seconds(20);
  std::optional<lt::add_torrent_params> rd_params;
  while (!rd_params && Clock::now() < wait_until) {
    for (lt::alert* a : s_.pop_alerts(std::chrono::milliseconds(100))) {
      if (auto* rd = lt::alert_cast<lt::save_resume_data_alert>(a)) rd_params = rd->params;
      else if (lt::alert_cast<lt::save_resume_data_failed_alert>(a)) wait_until = Clock::now();
      else translate_common_alert(s_, a);
    }
  }
  resume_pending_ = false;
  if (!rd_params) return Error::internal(final_dir.string() + ": libtorrent did not return the torrent's hashes");
  rt.ti = rd_params->ti;
  try {
    std::vector<char> buf = lt::write_torrent_file_buf(*rd_params, {});
    rt.bytes.assign(buf.begin(), buf.end());
  } catch (const std::exception& ex) {
    Event w = event(Event::Kind::warning);
    w.message = final_dir.string() + ": no release.torrent written (" + ex.what() + "); seed it from the original .torrent";
    s_.emit(w);
  }
  return rt;
}

Status Fetch::place_release() {
  fs::path from = staging_ / name_;
  fs::path to = o_.out_dir / name_;
  // Seeders need the .torrent (with its piece layers) to serve a v2 torrent; keep it in place.
  MS_ASSIGN_OR_RETURN(ReleaseTorrent rt, release_torrent(to));
  lt::torrent_handle old = h_;
  s_.ses->remove_torrent(old);
  // Wait for libtorrent to close the files before renaming the directory.
  auto deadline = Clock::now() + std::chrono::seconds(20);
  bool removed = false;
  while (!removed && Clock::now() < deadline) {
    for (lt::alert* a : s_.pop_alerts(std::chrono::milliseconds(100))) {
      if (lt::alert_cast<lt::torrent_removed_alert>(a)) removed = true;
      else translate_common_alert(s_, a);
    }
  }
  h_ = {};
  if (!rt.bytes.empty()) MS_TRY(write_file_atomic(from / std::string(kTorrentPath), rt.bytes));
  if (Status st = check_release_destination(to); !st.ok())
    return Error{st.error().code, st.error().message + " (it appeared while fetching; the verified release stays in " +
                                      from.string() + ")"};
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return Error::io(to.string() + ": cannot move the verified release into place: " + ec.message());
  lease_.finished();
  fs::remove(resume_path_, ec);
  fs::remove_all(staging_, ec);
  fs::remove(partial_root_, ec);  // only when empty (other fetches may be staged there)

  if (Status st = record_release_seen(*verified_); !st.ok()) {
    Event w = event(Event::Kind::warning);
    w.message = st.error().message;
    s_.emit(w);
  }
  result_.release_dir = to;
  result_.name = name_;
  result_.version = static_cast<std::int64_t>(manifest_->version);
  result_.info_hash = ih_;
  RegistryEntry entry;
  entry.name = manifest_->name;
  entry.version = manifest_->version;
  entry.dir = fs::absolute(to);
  entry.manifest = entry.dir / std::string(kManifestPath);
  entry.info_hash = ih_;
  entry.publisher_key = manifest_->publisher.public_key;
  // Every file was written by this fetch and proven by libtorrent's checks (and the signature).
  const lt::file_storage& files = ti_->files();
  for (lt::file_index_t i : files.file_range()) {
    if (files.pad_file_at(i)) continue;
    if (auto st = stamp_file(entry.dir, release_path(files, i)); st.ok())
      entry.stamps.push_back(std::move(*st));
  }
  result_.stamps = entry.stamps;
  if (Status st = register_release(entry); !st.ok()) {
    Event w = event(Event::Kind::warning);
    w.message = st.error().message;
    s_.emit(w);
  }

  if (o_.keep_seeding) {
    lt::add_torrent_params seed;
    seed.ti = rt.ti;
    seed.save_path = o_.out_dir.string();
    s_.apply_common(seed);
    if (s_.settings.serve_once && !s_.settings.super_seeding) seed.extensions.push_back(serve_once_plugin(rt.ti->num_pieces()));
    seed.flags |= lt::torrent_flags::seed_mode;
    // Every piece was just proven by this fetch: serve without hashing again.
    seed.verified_pieces.resize(rt.ti->num_pieces(), true);
    lt::error_code lec;
    h_ = s_.ses->add_torrent(seed, lec);
    if (lec) return Error::network(to.string() + ": cannot seed: " + lec.message());
    stage_ = Stage::seeding;
  }
  return Status::success();
}

void Fetch::save_resume_async() {
  if (!h_.is_valid() || resume_pending_ || stage_ == Stage::seeding) return;
  resume_pending_ = true;
  h_.save_resume_data(lt::torrent_handle::save_info_dict | lt::torrent_handle::only_if_modified);
}

Status Fetch::handle_alert(lt::alert* a) {
  if (translate_common_alert(s_, a)) return Status::success();
  if (auto* rd = lt::alert_cast<lt::save_resume_data_alert>(a)) {
    resume_pending_ = false;
    if (stage_ != Stage::placing && stage_ != Stage::seeding) {
      Status st = save_resume_file(resume_path_, rd->params);
      if (!st.ok()) return st.error();
    }
  } else if (lt::alert_cast<lt::save_resume_data_failed_alert>(a)) {
    resume_pending_ = false;
  } else if (lt::alert_cast<lt::metadata_received_alert>(a)) {
    return on_metadata();
  } else if (lt::alert_cast<lt::torrent_finished_alert>(a)) {
    // Not a second later, at the next status tick.
    if (stage_ == Stage::downloading) maybe_start_verify(h_.status());
  } else if (lt::alert_cast<lt::torrent_checked_alert>(a)) {
    if (stage_ == Stage::rechecking) {
      MS_TRY(start_download());
      // Without piece layers (a magnet link), the recheck leaves pieces "finished but not yet
      // verified", and libtorrent asks peers for their hashes only on connection events: a
      // fresh connection once the check is over makes it ask now rather than a minute later.
      if (!piece_layers_known_) nudge_at_ = Clock::now() + std::chrono::seconds(2);
    }
  } else if (auto* rp = lt::alert_cast<lt::read_piece_alert>(a)) {
    if (stage_ == Stage::manifest) return on_read_piece(*rp);
  } else if (auto* bf = lt::alert_cast<lt::block_finished_alert>(a)) {
    tally_.add_block(*bf, ti_.get());
    received_pieces_.insert(bf->piece_index);
  } else if (auto* pf = lt::alert_cast<lt::piece_finished_alert>(a)) {
    if (watch_) watch_->piece_done(pf->piece_index);
    Event e;
    e.kind = Event::Kind::piece;
    e.name = name_;
    e.piece = static_cast<int>(pf->piece_index);
    // libtorrent also reports pieces it found complete on disk (a resumed run's recheck).
    e.message = received_pieces_.count(pf->piece_index) ? "downloaded" : "on disk";
    s_.emit(e);
    return maybe_read_manifest();
  } else if (lt::alert_cast<lt::cache_flushed_alert>(a)) {
    if (stage_ == Stage::flushing && flush_requested_) start_final_check();
  } else if (auto* fe = lt::alert_cast<lt::file_error_alert>(a)) {
    std::string what = fe->filename();
    if (fe->error == boost::system::errc::no_space_on_device)
      return Error::io(what + ": disk full (" + fe->error.message() +
                       "); free space and run the same fetch again to resume");
    return Error::io(what + ": " + fe->error.message() + " (" + lt::operation_name(fe->op) + ")");
  } else if (auto* te = lt::alert_cast<lt::torrent_error_alert>(a)) {
    return Error::io(te->filename() + std::string(": ") + te->error.message());
  } else if (auto* ds = lt::alert_cast<lt::dht_stats_alert>(a)) {
    dht_nodes_ = 0;
    for (const lt::dht_routing_bucket& b : ds->routing_table) dht_nodes_ += b.num_nodes;
  } else if (auto* md = lt::alert_cast<lt::metadata_failed_alert>(a)) {
    return Error::network(o_.source + ": bad metadata from peers: " + md->error.message());
  }
  return Status::success();
}

void Fetch::tick(bool force) {
  auto now = Clock::now();
  if (!force && now < next_tick_) return;
  next_tick_ = now + std::chrono::milliseconds(static_cast<int>(s_.settings.status_interval * 1000));
  if (!h_.is_valid()) return;
  lt::torrent_status st = h_.status();
  tally_.sample(h_);
  last_ = make_progress(st, stage_name(stage_));
  last_.reused = result_.bytes_reused;
  describe_sources(last_, st);
  result_.payload_downloaded = std::max(result_.payload_downloaded, st.total_payload_download);
  s_.emit(event(Event::Kind::progress));
  check_stall(now);
  if (stage_ == Stage::manifest) (void)maybe_read_manifest();
  maybe_start_verify(st);
  if (nudge_at_ && now >= *nudge_at_) {
    nudge_at_.reset();
    h_.pause();
    h_.resume();
    s_.connect_explicit_peers(h_);
  }
  if (now >= next_reconnect_) {
    next_reconnect_ = now + kReconnectInterval;
    if (st.num_peers < static_cast<int>(s_.explicit_peers.size())) s_.connect_explicit_peers(h_);
  }
  // libtorrent asks the DHT for peers when the torrent is added and then every 15 minutes: a
  // seeder that announced after that first lookup would be found only then. Ask again while
  // no peer is known.
  if (now >= next_dht_lookup_) {
    next_dht_lookup_ = now + std::chrono::seconds(30);
    if (s_.settings.dht && st.list_peers == 0) h_.force_dht_announce();
  }
  if (now >= next_resume_ && (stage_ == Stage::downloading || stage_ == Stage::manifest)) {
    next_resume_ = now + kResumeInterval;
    save_resume_async();
  }
}

void Fetch::describe_sources(Progress& p, const lt::torrent_status& st) {
  p.peers_known = st.list_peers;
  for (const lt::announce_entry& t : h_.trackers()) {
    ++p.trackers;
    bool working = false;
    for (const lt::announce_endpoint& ep : t.endpoints)
      for (const lt::announce_infohash& ai : ep.info_hashes) {
        working = working || ai.is_working();
        if (ai.last_error && p.tracker_error.empty()) p.tracker_error = ai.last_error.message();
      }
    p.trackers_working += working;
  }
  lt::settings_pack sp = s_.ses->get_settings();
  p.lsd = sp.get_bool(lt::settings_pack::enable_lsd);
  if (sp.get_bool(lt::settings_pack::enable_dht)) {
    s_.ses->post_dht_stats();  // answered by a dht_stats_alert (handle_alert)
    p.dht_nodes = std::max(dht_nodes_, 0);
  }
}

void Fetch::check_stall(Clock::time_point now) {
  bool waiting_on_peers = stage_ == Stage::metadata || stage_ == Stage::manifest || stage_ == Stage::downloading;
  std::int64_t bytes = last_.payload_downloaded + last_.total_done;
  if (!waiting_on_peers || bytes != last_bytes_ || stage_ != last_stage_) {
    last_step_at_ = now;
    last_bytes_ = bytes;
    last_stage_ = stage_;
    return;
  }
  if (o_.stall_timeout.count() <= 0 || now - last_step_at_ < o_.stall_timeout) return;
  fail(Error::network((name_.empty() ? o_.source : name_) + ": no progress for " +
                      std::to_string(o_.stall_timeout.count()) + " s (" + stage_name(stage_) + "; " +
                      describe_waiting(last_) + "); run it again to resume, or raise --stall-timeout"));
}

Result<FetchResult> Fetch::run() {
  if (Status st = prepare(); !st.ok()) {
    if (h_.is_valid()) s_.ses->remove_torrent(h_);
    return st.error();
  }
  while (!done_ && !error_) {
    if (stop_.load()) {
      if (stage_ == Stage::seeding) done_ = true;  // --seed ends with a signal: success
      else fail(Error::interrupted("fetch interrupted; run it again to resume"));
      break;
    }
    // The reuse copy, the chunk watch's catching up and the final check end without an alert:
    // poll them often rather than add up to 100 ms to each of these steps.
    bool polling = stage_ == Stage::reusing || stage_ == Stage::verifying ||
                   (stage_ == Stage::flushing && !flush_requested_);
    auto wait = std::chrono::milliseconds(polling ? 5 : 100);
    for (lt::alert* a : s_.pop_alerts(wait)) {
      if (Status st = handle_alert(a); !st.ok()) {
        fail(st.error());
        break;
      }
    }
    if (error_) break;
    tick(false);
    maybe_finish_watch();
    if (stage_ == Stage::reusing && reuse_.valid() &&
        reuse_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      if (Status st = on_reuse_done(reuse_.get()); !st.ok()) {
        fail(st.error());
        break;
      }
    }
    if (stage_ == Stage::verifying && verify_.valid() &&
        verify_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      Status v = verify_.get();
      watch_.reset();  // its descriptors to the staging files are closed before the rename
      if (!v.ok()) {
        fail(v.error());
        break;
      }
      stage_ = Stage::placing;
      if (Status st = place_release(); !st.ok()) {
        fail(st.error());
        break;
      }
      Event d = event(Event::Kind::done);
      d.dir = result_.release_dir.string();
      d.peers = result_.peers = tally_.totals();
      d.progress.payload_downloaded = result_.payload_downloaded;
      d.progress.reused = result_.bytes_reused;
      s_.emit(d);
      if (stage_ != Stage::seeding) done_ = true;
    }
  }
  if (error_) {
    if (h_.is_valid() && stage_ != Stage::seeding && stage_ != Stage::placing) {
      if (verify_.valid()) verify_.wait();
      if (reuse_.valid()) reuse_.wait();
      tick(true);
      if (ti_) {
        h_.pause();
        save_all_resume(s_, {h_}, [&](const lt::torrent_handle&) { return resume_path_; },
                        lt::torrent_handle::save_info_dict | lt::torrent_handle::flush_disk_cache,
                        nullptr);
      }
    }
    Event e = event(Event::Kind::error);
    e.error = *error_;
    e.message = error_->message;
    s_.emit(e);
    if (h_.is_valid()) s_.ses->remove_torrent(h_);
    return *error_;
  }
  if (h_.is_valid()) s_.ses->remove_torrent(h_);
  return result_;
}

}  // namespace

Status check_fetch_options(const FetchOptions& o) {
  if (o.out_dir.empty()) return Error::invalid_argument("fetch: no output directory");
  for (const auto& k : o.trusted_keys)
    if (auto key = load_public_key(k); !key.ok()) return key.error();
  if (!o.channel && looks_like_channel(o.source)) {
    MS_TRY(parse_channel_ref(o.source));  // its key is the trusted one
    return Status::success();
  }
  if (o.trusted_keys.empty()) {
    MS_ASSIGN_OR_RETURN(std::vector<PublicKey> store, load_trusted_keys());
    if (store.empty())
      return Error::trust(o.source + ": no trusted publisher key: pass --trust KEY, or add the publisher with "
                                     "`modelswarm trust add KEY` (the trust store is empty)");
  }
  // A remote source is looked at once, by the fetch itself.
  if (o.source.rfind("http://", 0) == 0 || o.source.rfind("https://", 0) == 0) return Status::success();
  MS_ASSIGN_OR_RETURN(Source src, params_from_source(o.source, o.http));
  return require_v2(src, o.source);
}

namespace {

// A KEY/NAME source: the item the DHT holds now, then the fetch of its magnet link with the
// channel key trusted and the item's release required.
Status follow_channel(Session& session, FetchOptions& o, const std::atomic<bool>& stop) {
  if (!o.channel) {
    MS_ASSIGN_OR_RETURN(ChannelRef ref, parse_channel_ref(o.source));
    ChannelLookupOptions lookup;
    lookup.dht_wait = o.stall_timeout;
    MS_ASSIGN_OR_RETURN(std::optional<ChannelItem> item, resolve_channel(session, ref, lookup, stop));
    if (!item)
      return Error::network("channel " + o.source + ": no DHT node holds an item for it (never published, or "
                            "forgotten: `modelswarm publish` or a seeder puts it again)");
    o.channel = std::move(*item);
  }
  MS_TRY(check_channel_floor(*o.channel));
  MS_TRY(record_channel_item(*o.channel));
  Event e;
  e.kind = Event::Kind::channel;
  e.name = o.channel->channel.name;
  e.info_hash = o.channel->info_hash;
  e.message = "channel " + key_id_hex(o.channel->channel.key.id) + "/" + o.channel->channel.name + ": version " +
              std::to_string(o.channel->seq);
  SessionAccess::of(session).emit(e);
  o.source = channel_magnet(*o.channel);
  o.trusted_keys.push_back(o.channel->channel.key.to_base64());
  return Status::success();
}

}  // namespace

Result<FetchResult> fetch(Session& session, const FetchOptions& options,
                          const std::atomic<bool>& stop) {
  MS_TRY(check_fetch_options(options));
  FetchOptions o = options;
  if (o.channel || looks_like_channel(o.source)) MS_TRY(follow_channel(session, o, stop));
  Fetch f(SessionAccess::of(session), o, stop);
  return f.run();
}

}  // namespace modelswarm::swarm
