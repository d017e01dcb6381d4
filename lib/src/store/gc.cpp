// gc: staging leftovers of fetches that no longer run, and registry entries whose release is gone.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "modelswarm/paths.hpp"
#include "modelswarm/registry.hpp"
#include "modelswarm/staging.hpp"
#include "store/staging_records.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

std::string_view gc_item_kind_name(GcItem::Kind k) {
  switch (k) {
    case GcItem::Kind::staging: return "staging";
    case GcItem::Kind::resume: return "resume";
    case GcItem::Kind::lock: return "lock";
    case GcItem::Kind::registry_entry: return "registry_entry";
  }
  return "unknown";
}

namespace {

// Allocated bytes (st_blocks), so a sparse staging file counts what it really holds.
uint64_t disk_bytes(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  uint64_t total = static_cast<uint64_t>(st.st_blocks) * 512;
  if (S_ISDIR(st.st_mode)) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      struct stat s {};
      if (::lstat(it->path().c_str(), &s) == 0) total += static_cast<uint64_t>(s.st_blocks) * 512;
    }
  }
  return total;
}

// The info hash a staging entry belongs to: the leading hex digits of its name (after the dot
// of a temp file). Empty for names that are not ours.
std::string owner_hash(const std::string& name) {
  size_t i = !name.empty() && name[0] == '.' ? 1 : 0;
  size_t j = i;
  while (j < name.size() && std::isxdigit(static_cast<unsigned char>(name[j]))) ++j;
  size_t n = j - i;
  if (n != 40 && n != 64) return "";
  return name.substr(i, n);
}

class Collector {
 public:
  Collector(const GcOptions& o, GcReport& r) : o_(o), r_(r) {}

  // Returns true when the directory holds no staging any more.
  bool clean_out_dir(const fs::path& out) {
    fs::path partial = out / std::string(kPartialDirName);
    std::error_code ec;
    if (!fs::is_directory(partial, ec)) return true;
    std::map<std::string, std::vector<fs::path>> groups;
    for (const auto& e : fs::directory_iterator(partial, ec)) {
      std::string h = owner_hash(e.path().filename().string());
      if (!h.empty()) groups[h].push_back(e.path());
    }
    for (auto& [hash, paths] : groups) clean_group(partial, hash, paths);
    if (!o_.dry_run) ::rmdir(partial.c_str());  // only succeeds when empty
    return !fs::exists(partial, ec);
  }

 private:
  void clean_group(const fs::path& partial, const std::string& hash, const std::vector<fs::path>& paths) {
    fs::path lock = partial / (hash + ".lock");
    int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      r_.in_use.push_back(partial / hash);
      return;
    }
    // Holding the lock (or there is none): no fetch runs on this staging. The lock file goes
    // last, so a fetch starting now waits for it and then re-creates it.
    for (const auto& p : paths) {
      if (p == lock) continue;
      std::string name = p.filename().string();
      GcItem::Kind kind = name.find(".resume") != std::string::npos ? GcItem::Kind::resume : GcItem::Kind::staging;
      remove(kind, p);
    }
    if (fd >= 0) {
      remove(GcItem::Kind::lock, lock);
      ::close(fd);
    }
  }

  void remove(GcItem::Kind kind, const fs::path& p) {
    GcItem item{kind, p, disk_bytes(p)};
    if (!o_.dry_run) {
      std::error_code ec;
      fs::remove_all(p, ec);
      if (ec) {
        r_.warnings.push_back(p.string() + ": cannot remove: " + ec.message());
        return;
      }
    }
    r_.bytes += item.bytes;
    r_.removed.push_back(std::move(item));
  }

  const GcOptions& o_;
  GcReport& r_;
};

}  // namespace

Result<GcReport> collect_garbage(const GcOptions& o) {
  GcReport rep;
  Collector c(o, rep);
  std::error_code ec;

  std::vector<std::string> problems;
  MS_ASSIGN_OR_RETURN(std::vector<RegistryEntry> entries, list_registered(&problems));
  for (auto& p : problems) rep.warnings.push_back(p);

  // Every directory a fetch may have staged in: recorded ones, the given ones, and the parents
  // of registered releases (a fetch into OUT lands in OUT/NAME).
  std::map<fs::path, fs::path> out_dirs;  // normalized -> its record file (empty if none)
  if (fs::is_directory(store::staging_records_dir(), ec)) {
    for (const auto& e : fs::directory_iterator(store::staging_records_dir(), ec)) {
      if (e.path().extension() != ".json") continue;
      auto text = read_small_file(e.path(), 1 << 16);
      auto j = text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
      if (!j.is_object() || !j.contains("out_dir") || !j["out_dir"].is_string()) {
        if (!o.dry_run) fs::remove(e.path(), ec);
        continue;
      }
      out_dirs[fs::path(j["out_dir"].get<std::string>()).lexically_normal()] = e.path();
    }
  }
  for (const auto& d : o.dirs) out_dirs.emplace(fs::absolute(d, ec).lexically_normal(), fs::path());
  for (const auto& e : entries) out_dirs.emplace(e.dir.parent_path().lexically_normal(), fs::path());

  for (const auto& [dir, record] : out_dirs) {
    bool empty = c.clean_out_dir(dir);
    if (empty && !record.empty() && !o.dry_run) fs::remove(record, ec);
  }

  if (o.prune_registry) {
    for (const auto& e : entries) {
      if (fs::exists(e.manifest, ec)) continue;
      fs::path file = registry_dir() / (e.info_hash + ".json");
      GcItem item{GcItem::Kind::registry_entry, file, disk_bytes(file)};
      if (!o.dry_run) {
        Status st = forget_release(e.info_hash);
        if (!st.ok()) {
          rep.warnings.push_back(st.error().message);
          continue;
        }
      }
      rep.removed.push_back(std::move(item));
    }
  }
  return rep;
}

}  // namespace modelswarm
