// The releases the gateway answers from: which catalogue release a (repo, revision) names,
// whether it is held here (verified), fetching it through the swarm when it is not, and seeding
// every held release. Private to lib/src/gateway.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "modelswarm/file_stamp.hpp"
#include "modelswarm/gateway.hpp"
#include "modelswarm/manifest.hpp"

namespace modelswarm::gateway {

// A release held here: its signature verified with a key the catalogue trusts, every file at
// its signed size, and the seed record that says which files are unchanged since hashed.
struct HeldRelease {
  std::string repo;
  std::string commit;  // commit_id_for(info hash)
  std::string info_hash;
  std::filesystem::path dir;
  Manifest manifest;
  std::map<std::string, FileStamp> stamps;  // by path
};

struct Lookup {
  enum class Kind { held, pending, failed, unknown_repo, unknown_revision };
  Kind kind = Kind::unknown_repo;
  std::shared_ptr<const HeldRelease> release;  // held
  std::string message;                         // failed: why
};

class Holdings {
 public:
  Holdings(const Catalogue& catalogue, const GatewayOptions& options);
  ~Holdings();  // shutdown()
  Holdings(const Holdings&) = delete;
  Holdings& operator=(const Holdings&) = delete;

  // Looks up what the catalogue holds already (no fetch), then starts seeding and the fetcher.
  void start();
  // Stops the fetcher and the seeder (resume data saved) and joins them.
  void shutdown();

  // The release `revision` of `repo` names ("main"/"HEAD": the highest version; a revision name
  // from the catalogue; a commit id). Not held: its fetch is started and waited for, up to
  // options.wait.
  Lookup acquire(const std::string& repo, const std::string& revision);
  std::chrono::seconds retry_after() const { return options_.retry_after; }

 private:
  struct Slot {
    const CatalogueRepo* repo = nullptr;
    const CatalogueRelease* release = nullptr;
    std::optional<std::string> info_hash;  // known once resolved
    std::shared_ptr<const HeldRelease> held;
    bool queued = false;
    std::optional<Error> error;
    std::chrono::steady_clock::time_point failed_at{};
  };

  Slot* find_slot(const CatalogueRepo& repo, const std::string& revision);
  MirrorEntry entry_for(const Slot& s) const;
  Result<std::shared_ptr<const HeldRelease>> load_held(const Slot& s, const MirrorResult& r) const;
  void fetch_loop();
  void seed_loop();

  const Catalogue& catalogue_;
  const GatewayOptions& options_;
  std::vector<std::unique_ptr<Slot>> slots_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Slot*> queue_;
  std::uint64_t generation_ = 0;  // bumped when the held set changes
  bool shutting_down_ = false;
  std::atomic<bool> fetch_stop_{false};
  std::atomic<bool> seed_stop_{false};
  std::thread fetcher_, seeder_;
};

}  // namespace modelswarm::gateway
