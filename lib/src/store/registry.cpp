#include "modelswarm/registry.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

#include "modelswarm/manifest.hpp"
#include "modelswarm/paths.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

fs::path registry_dir() { return state_dir() / "releases"; }

Status register_release(RegistryEntry entry) {
  if (entry.info_hash.empty() || entry.info_hash.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Error::invalid_argument("registry: bad info hash '" + entry.info_hash + "'");
  MS_TRY(ensure_state_dir());
  std::error_code ec;
  fs::create_directories(registry_dir(), ec);
  if (ec) return Error::io(registry_dir().string() + ": cannot create: " + ec.message());
  entry.registered = format_utc_time(static_cast<int64_t>(std::time(nullptr)));
  nlohmann::json j = {{"format", "modelswarm.registry/1"},
                      {"name", entry.name},
                      {"version", entry.version},
                      {"dir", entry.dir.string()},
                      {"manifest", entry.manifest.string()},
                      {"info_hash", entry.info_hash},
                      {"publisher", entry.publisher_key},
                      {"registered", entry.registered}};
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : entry.stamps)
    files.push_back({{"path", f.path}, {"size", f.size}, {"mtime_ns", f.mtime_ns}, {"ctime_ns", f.ctime_ns},
                     {"inode", f.inode}, {"device", f.device}});
  j["files"] = std::move(files);
  return write_file_atomic(registry_dir() / (entry.info_hash + ".json"), j.dump(2) + "\n");
}

Result<std::vector<RegistryEntry>> list_registered(std::vector<std::string>* problems) {
  std::vector<RegistryEntry> out;
  std::error_code ec;
  if (!fs::is_directory(registry_dir(), ec)) return out;
  for (const auto& de : fs::directory_iterator(registry_dir(), ec)) {
    if (de.path().extension() != ".json") continue;
    auto text = read_small_file(de.path(), 1 << 20);
    try {
      if (!text.ok()) throw std::runtime_error(text.error().message);
      auto j = nlohmann::json::parse(*text);
      RegistryEntry e;
      e.name = j.at("name").get<std::string>();
      e.version = j.at("version").get<std::uint64_t>();
      e.dir = j.at("dir").get<std::string>();
      e.manifest = j.at("manifest").get<std::string>();
      e.info_hash = j.at("info_hash").get<std::string>();
      e.publisher_key = j.value("publisher", "");
      e.registered = j.value("registered", "");
      // An unreadable seed record only costs a hash before the first upload: drop it, keep the entry.
      try {
        for (const auto& f : j.value("files", nlohmann::json::array())) {
          FileStamp st;
          st.path = f.at("path").get<std::string>();
          st.size = f.at("size").get<std::uint64_t>();
          st.mtime_ns = f.at("mtime_ns").get<std::int64_t>();
          st.ctime_ns = f.at("ctime_ns").get<std::int64_t>();
          st.inode = f.at("inode").get<std::uint64_t>();
          st.device = f.at("device").get<std::uint64_t>();
          e.stamps.push_back(std::move(st));
        }
      } catch (const std::exception&) {
        e.stamps.clear();
      }
      out.push_back(std::move(e));
    } catch (const std::exception& ex) {
      if (problems) problems->push_back(de.path().string() + ": " + ex.what());
    }
  }
  if (ec) return Error::io(registry_dir().string() + ": " + ec.message());
  return out;
}

}  // namespace modelswarm
