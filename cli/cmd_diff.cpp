// modelswarm diff A B: what changed between two releases, chunk by chunk, and what a fetch of B
// would download with A already on disk.
#include <map>

#include "command.hpp"
#include "modelswarm/diff.hpp"
#include "units.hpp"

namespace modelswarm::cli {
namespace {

std::string where(const std::optional<std::string>& path, uint64_t offset) {
  return path ? *path + "@" + std::to_string(offset) : "-";
}

double percent(uint64_t part, uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

class DiffCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("a", a_, "Release directory or manifest file (the one on disk)")->required();
    app.add_option("b", b_, "Release directory or manifest file (the one to fetch)")->required();
    app.add_option("--piece-size", piece_size_,
                   "B's piece size for the piece-granular estimate (default: from B's release.torrent)");
    app.add_flag("--summary", summary_, "Print only the totals, not every changed chunk");
  }

  int run(const Globals& g) override {
    uint64_t piece = 0;
    if (!piece_size_.empty()) {
      auto p = parse_size(piece_size_);
      if (!p || *p < 16384 || (*p & (*p - 1)) != 0)
        return report_error(g, Error::invalid_argument("--piece-size: '" + piece_size_ +
                                                       "' is not a power of two >= 16K"));
      piece = *p;
    }
    auto a = load_release_description(a_);
    if (!a.ok()) return report_error(g, a.error());
    auto b = load_release_description(b_);
    if (!b.ok()) return report_error(g, b.error());
    if (!piece) piece = b->piece_size;
    ReleaseDiff d = diff_manifests(a->manifest, b->manifest, piece);

    std::map<std::string, uint64_t> counts = {{"added", 0}, {"removed", 0}, {"changed", 0}, {"moved", 0}};
    for (const auto& c : d.changes) ++counts[std::string(chunk_change_name(c.kind))];
    if (g.json) {
      print_json(to_json(*a, *b, d, counts));
      return kExitOk;
    }
    if (!summary_ && !d.changes.empty()) {
      std::printf("%-8s %-40s %-36s %-36s %10s\n", "CHANGE", "CHUNK", "IN A (file@offset)",
                  "IN B (file@offset)", "SIZE");
      for (const auto& c : d.changes) {
        uint64_t size = c.path_b ? c.size_b : c.size_a;
        std::printf("%-8s %-40s %-36s %-36s %10s\n", std::string(chunk_change_name(c.kind)).c_str(),
                    c.name.c_str(), where(c.path_a, c.offset_a).c_str(), where(c.path_b, c.offset_b).c_str(),
                    format_size(size).c_str());
      }
    }
    std::printf("%s v%llu -> %s v%llu: %llu changed, %llu added, %llu removed, %llu moved, %llu unchanged\n",
                a->manifest.name.c_str(), static_cast<unsigned long long>(a->manifest.version),
                b->manifest.name.c_str(), static_cast<unsigned long long>(b->manifest.version),
                static_cast<unsigned long long>(counts["changed"]), static_cast<unsigned long long>(counts["added"]),
                static_cast<unsigned long long>(counts["removed"]), static_cast<unsigned long long>(counts["moved"]),
                static_cast<unsigned long long>(d.unchanged));
    std::printf("fetch of B given A: %s of %s to transfer (%.2f%%), %s reusable\n",
                format_size(d.transfer_bytes).c_str(), format_size(d.bytes_b).c_str(),
                percent(d.transfer_bytes, d.bytes_b), format_size(d.reusable_bytes).c_str());
    if (d.piece_size)
      std::printf("in whole %s pieces: %s (%.2f%%)\n", format_size(d.piece_size).c_str(),
                  format_size(d.transfer_bytes_pieces).c_str(), percent(d.transfer_bytes_pieces, d.bytes_b));
    return kExitOk;
  }

 private:
  static nlohmann::json side(const LoadedRelease& r) {
    nlohmann::json j = {{"name", r.manifest.name}, {"version", r.manifest.version},
                        {"bytes", r.manifest.total_size()}};
    if (!r.dir.empty()) j["dir"] = r.dir.string();
    return j;
  }

  static nlohmann::json to_json(const LoadedRelease& a, const LoadedRelease& b, const ReleaseDiff& d,
                                const std::map<std::string, uint64_t>& counts) {
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& c : d.changes) {
      nlohmann::json j = {{"kind", chunk_change_name(c.kind)}, {"name", c.name}};
      if (c.path_a) j["a"] = {{"path", *c.path_a}, {"offset", c.offset_a}, {"size", c.size_a}};
      if (c.path_b) j["b"] = {{"path", *c.path_b}, {"offset", c.offset_b}, {"size", c.size_b}};
      if (c.dtype_a) j["a"]["dtype"] = *c.dtype_a;
      if (c.dtype_b) j["b"]["dtype"] = *c.dtype_b;
      changes.push_back(j);
    }
    nlohmann::json out = {{"a", side(a)},
                          {"b", side(b)},
                          {"changes", changes},
                          {"counts", counts},
                          {"unchanged", d.unchanged},
                          {"chunks_a", d.chunks_a},
                          {"chunks_b", d.chunks_b},
                          {"transfer_bytes", d.transfer_bytes},
                          {"reusable_bytes", d.reusable_bytes}};
    out["counts"]["unchanged"] = d.unchanged;
    if (d.piece_size) {
      out["piece_size"] = d.piece_size;
      out["transfer_bytes_pieces"] = d.transfer_bytes_pieces;
    }
    return out;
  }

  std::string a_, b_, piece_size_;
  bool summary_ = false;
};

}  // namespace

MODELSWARM_COMMAND("diff", "Compare two releases chunk by chunk; bytes a fetch of B needs given A", DiffCommand);

}  // namespace modelswarm::cli
