#include "holdings.hpp"

#include <algorithm>
#include <set>

#include "modelswarm/paths.hpp"
#include "modelswarm/registry.hpp"

namespace modelswarm::gateway {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

bool is_commit_id(const std::string& s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The fetch session listens where the seeding session does, on any free port: both run at
// once, and only the seeding session's port is one peers are told about.
std::string any_port(const std::string& listen) {
  std::string out;
  size_t start = 0;
  while (start <= listen.size()) {
    size_t comma = listen.find(',', start);
    std::string item = listen.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (auto colon = item.rfind(':'); colon != std::string::npos) item = item.substr(0, colon) + ":0";
    out += (out.empty() ? "" : ",") + item;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Holdings::Holdings(const Catalogue& catalogue, const GatewayOptions& options)
    : catalogue_(catalogue), options_(options) {
  for (const auto& repo : catalogue_.repos)
    for (const auto& rel : repo.releases) {
      auto s = std::make_unique<Slot>();
      s->repo = &repo;
      s->release = &rel;
      slots_.push_back(std::move(s));
    }
}

Holdings::~Holdings() { shutdown(); }

MirrorEntry Holdings::entry_for(const Slot& s) const {
  MirrorEntry e;
  e.source = s.release->source;
  e.trust = s.release->trust;
  e.dest = s.release->dest;
  return e;
}

Result<std::shared_ptr<const HeldRelease>> Holdings::load_held(const Slot& s, const MirrorResult& r) const {
  MS_ASSIGN_OR_RETURN(Manifest m, check_held_release(r.dir, s.release->trust));
  // The catalogue promises a version for each revision; a release signed as another version is
  // not the one the operator listed (an old release replayed under a new name, or a mistake).
  if (static_cast<std::int64_t>(m.version) != s.release->version)
    return Error::trust(r.dir.string() + ": signed as version " + std::to_string(m.version) + " of " + m.name +
                        ", the catalogue lists version " + std::to_string(s.release->version) + " for " +
                        s.repo->id);
  auto h = std::make_shared<HeldRelease>();
  h->repo = s.repo->id;
  h->info_hash = r.info_hash;
  h->commit = commit_id_for(r.info_hash);
  h->dir = r.dir;
  h->manifest = std::move(m);
  MS_ASSIGN_OR_RETURN(auto entry, registered_by_id(r.info_hash));
  if (entry)
    for (const auto& st : entry->stamps) h->stamps[st.path] = st;
  return std::shared_ptr<const HeldRelease>(std::move(h));
}

void Holdings::start() {
  MirrorOptions mo;
  mo.http = options_.http;
  std::atomic<bool> never{false};
  for (auto& s : slots_) {
    auto held = find_held_release(entry_for(*s), mo, never);
    if (!held) continue;
    auto loaded = load_held(*s, *held);
    if (!loaded) {
      held->status = MirrorResult::Status::failed;
      held->error = loaded.error();
    } else {
      s->info_hash = held->info_hash;
      s->held = *loaded;
    }
    if (options_.on_release) options_.on_release(*held);
  }
  fetcher_ = std::thread([this] { fetch_loop(); });
  seeder_ = std::thread([this] { seed_loop(); });
}

void Holdings::shutdown() {
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
  }
  fetch_stop_ = true;
  seed_stop_ = true;
  cv_.notify_all();
  if (fetcher_.joinable()) fetcher_.join();
  if (seeder_.joinable()) seeder_.join();
}

Holdings::Slot* Holdings::find_slot(const CatalogueRepo& repo, const std::string& revision) {
  std::vector<Slot*> mine;
  for (auto& s : slots_)
    if (s->repo == &repo) mine.push_back(s.get());
  if (revision == "main" || revision == "HEAD")
    return *std::max_element(mine.begin(), mine.end(), [](const Slot* a, const Slot* b) {
      return a->release->version < b->release->version;
    });
  for (Slot* s : mine)
    if (std::find(s->release->revisions.begin(), s->release->revisions.end(), revision) != s->release->revisions.end())
      return s;
  if (!is_commit_id(revision)) return nullptr;
  // A commit id is the start of the release's info hash, which the source names without a
  // fetch (a release URL's .torrent is downloaded once).
  for (Slot* s : mine) {
    std::optional<std::string> ih;
    {
      std::lock_guard lock(mu_);
      ih = s->info_hash;
    }
    if (!ih) {
      std::atomic<bool> never{false};
      auto got = swarm::source_info_hash(s->release->source, options_.http, &never);
      if (!got) continue;
      std::lock_guard lock(mu_);
      s->info_hash = ih = *got;
    }
    if (commit_id_for(*ih) == revision) return s;
  }
  return nullptr;
}

Lookup Holdings::acquire(const std::string& repo_id, const std::string& revision) {
  Lookup out;
  const CatalogueRepo* repo = catalogue_.find(repo_id);
  if (!repo) return out;  // unknown_repo
  Slot* s = find_slot(*repo, revision);
  if (!s) {
    out.kind = Lookup::Kind::unknown_revision;
    return out;
  }
  std::unique_lock lock(mu_);
  auto deadline = Clock::now() + options_.wait;
  for (;;) {
    if (s->held) {
      out.kind = Lookup::Kind::held;
      out.release = s->held;
      return out;
    }
    if (s->error && !s->queued) {
      if (Clock::now() - s->failed_at < options_.retry_failed) {
        out.kind = Lookup::Kind::failed;
        out.message = s->error->message;
        return out;
      }
      s->error.reset();
    }
    if (!s->queued) {
      s->queued = true;
      queue_.push_back(s);
      cv_.notify_all();
    }
    if (shutting_down_ || cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (s->held) continue;
      out.kind = Lookup::Kind::pending;
      return out;
    }
  }
}

void Holdings::fetch_loop() {
  std::unique_ptr<swarm::Session> session;
  for (;;) {
    Slot* s = nullptr;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return shutting_down_ || !queue_.empty(); });
      if (shutting_down_) return;
      s = queue_.front();
      queue_.pop_front();
    }
    MirrorResult result;
    if (!session) {
      swarm::SessionSettings settings = options_.seeding;
      settings.listen = any_port(settings.listen);
      auto opened = swarm::Session::open(settings, options_.on_event);
      if (opened) session = std::move(*opened);
      else result.error = opened.error();
    }
    std::shared_ptr<const HeldRelease> held;
    if (session) {
      MirrorFile file;
      file.releases.push_back(entry_for(*s));
      MirrorOptions mo;
      mo.on_event = options_.on_event;
      mo.stall_timeout = options_.stall_timeout;
      mo.http = options_.http;
      result = run_mirror(*session, file, mo, fetch_stop_).front();
      if (!result.error) {
        auto loaded = load_held(*s, result);
        if (loaded) held = *loaded;
        else result.error = loaded.error();
      }
    }
    if (result.error) result.status = MirrorResult::Status::failed;
    if (result.source.empty()) result.source = s->release->source;
    {
      std::lock_guard lock(mu_);
      s->queued = false;
      if (held) {
        s->held = held;
        s->info_hash = held->info_hash;
        ++generation_;
        seed_stop_ = true;  // the seeder starts again with this release too
      } else {
        s->error = result.error;
        s->failed_at = Clock::now();
      }
    }
    cv_.notify_all();
    if (options_.on_release) options_.on_release(result);
  }
}

void Holdings::seed_loop() {
  for (;;) {
    swarm::SeedOptions so;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] {
        if (shutting_down_) return true;
        for (auto& s : slots_)
          if (s->held) return true;
        return false;
      });
      if (shutting_down_) return;
      seed_stop_ = false;
      std::set<std::string> keys;
      for (auto& s : slots_) {
        if (!s->held) continue;
        so.release_dirs.push_back(s->held->dir);
        keys.insert(s->release->trust.begin(), s->release->trust.end());
      }
      so.trusted_keys.assign(keys.begin(), keys.end());
    }
    so.resume_dir = state_dir() / "seed";
    Status st = Status::success();
    {
      auto session = swarm::Session::open(options_.seeding, options_.on_event);
      if (session) st = swarm::seed(**session, so, seed_stop_);
      else st = session.error();
    }
    if (!st.ok() && options_.on_event) {
      swarm::Event e;
      e.kind = swarm::Event::Kind::warning;
      e.message = "seeding stopped: " + st.error().message;
      options_.on_event(e);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(5), [&] { return shutting_down_; });
    }
  }
}

}  // namespace modelswarm::gateway
