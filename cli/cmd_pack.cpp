// modelswarm pack: sign a release directory and describe it with a BitTorrent v2 torrent.
#include "command.hpp"
#include "modelswarm/registry.hpp"
#include "modelswarm/release.hpp"
#include "password.hpp"
#include "progress.hpp"
#include "units.hpp"

namespace modelswarm::cli {
namespace {

class PackCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("path", path_, "Release directory, or a single model file")->required();
    app.add_option("-k,--key", key_, "Secret key file (minisign format)")->required();
    app.add_option("-n,--name", name_, "Release name (letters, digits, . _ - +)")->required();
    app.add_option("-V,--version", version_, "Release version (integer, increasing)")->required();
    app.add_option("--expires", expires_, "Expiry date: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @EPOCH");
    app.add_option("--created", created_, "Creation date to record (default: SOURCE_DATE_EPOCH or now)");
    app.add_flag("--hybrid", hybrid_, "Also write v1 metadata (hybrid torrent; one more read of the data)");
    app.add_option("--piece-size", piece_size_, "Piece size, a power of two (e.g. 4M); default 4-16 MiB by size");
    app.add_option("--tracker", trackers_, "Tracker URL (repeatable)");
    app.add_option("--web-seed", web_seeds_, "Web seed URL, BEP 19 (repeatable)");
    app.add_option("-o,--output", out_dir_, "For a single FILE: the release directory to create (default: FILE's directory/NAME)");
    app.add_option("--password-file", pw_.file, "Read the key password from the first line of this file");
    app.add_option("--threads", threads_, "Hashing threads (default: all cores)");
    app.add_flag("--allow-downgrade", allow_downgrade_,
                 "Sign a version lower than one this key has on record here for this name");
    app.add_flag("--resign", resign_,
                 "Sign a different manifest for a version this key already signed (fetchers that saw the first refuse it)");
  }

  int run(const Globals& g) override {
    PackOptions o;
    o.name = name_;
    o.version = version_;
    o.hybrid = hybrid_;
    o.trackers = trackers_;
    o.web_seeds = web_seeds_;
    o.threads = threads_;
    o.allow_downgrade = allow_downgrade_;
    o.resign = resign_;
    if (!expires_.empty()) {
      auto t = parse_date(expires_);
      if (!t) return report_error(g, Error::invalid_argument("--expires " + expires_ + ": not a date"));
      o.expires = *t;
    }
    if (!created_.empty()) {
      auto t = parse_date(created_);
      if (!t) return report_error(g, Error::invalid_argument("--created " + created_ + ": not a date"));
      o.created = *t;
    }
    if (o.expires && o.created && *o.expires <= *o.created)
      return report_error(g, Error::invalid_argument("--expires must be later than the creation date"));
    if (!piece_size_.empty()) {
      auto s = parse_size(piece_size_);
      if (!s) return report_error(g, Error::invalid_argument("--piece-size " + piece_size_ + ": not a size"));
      o.piece_size = *s;
    }
    if (!out_dir_.empty()) o.single_file_dir = out_dir_;
    auto key = load_secret_key(key_, pw_);
    if (!key.ok()) return report_error(g, key.error());
    o.key = &*key;
    install_interrupt_handler();
    o.cancel = &g_interrupted;
    PercentLine line(g, "hashing");
    o.progress = [&](uint64_t d, uint64_t t) { line.update(d, t); };
    auto r = pack_release(path_, o);
    line.finish();
    if (!r.ok()) return report_error(g, r.error());
    // Later fetches reuse its chunks; a registry failure does not undo a good pack.
    if (Status st = register_release_dir(r->release_dir, r->manifest, r->stamps); !st.ok())
      note(g, "modelswarm: warning: not registered: " + st.error().message);
    if (g.json) {
      print_json({{"magnet", r->magnet},
                  {"info_hash_v2", r->info_hash_v2},
                  {"info_hash_v1", r->info_hash_v1.empty() ? nlohmann::json() : nlohmann::json(r->info_hash_v1)},
                  {"release_dir", r->release_dir.string()},
                  {"name", r->manifest.name},
                  {"version", r->manifest.version},
                  {"key_id", r->manifest.publisher.key_id},
                  {"files", r->manifest.files.size()},
                  {"bytes", r->bytes_hashed},
                  {"piece_size", r->piece_size},
                  {"manifest", (r->release_dir / kManifestPath).string()},
                  {"torrent", (r->release_dir / kTorrentPath).string()}});
    } else {
      note(g, "packed " + r->manifest.name + " version " + std::to_string(r->manifest.version) + ": " +
                  std::to_string(r->manifest.files.size()) + " files, " + std::to_string(r->bytes_hashed) +
                  " bytes, in " + r->release_dir.string());
      std::printf("%s\n", r->magnet.c_str());
    }
    return kExitOk;
  }

 private:
  std::string path_, key_, name_, expires_, created_, piece_size_, out_dir_;
  uint64_t version_ = 0;
  bool hybrid_ = false, allow_downgrade_ = false, resign_ = false;
  std::vector<std::string> trackers_, web_seeds_;
  unsigned threads_ = 0;
  PasswordSource pw_;
};

}  // namespace

MODELSWARM_COMMAND("pack", "Sign a release and write its manifest and v2 torrent", PackCommand);

}  // namespace modelswarm::cli
