// modelswarm mirror MIRRORFILE [--seed] : fetch what is missing or newer, verify, summarise.
// With --seed, SIGHUP re-reads the mirror file (systemd's ExecReload): mirror again, then seed
// the new set.
#include <set>

#include "command.hpp"
#include "modelswarm/channel.hpp"
#include "modelswarm/mirror.hpp"
#include "swarm_cli.hpp"

namespace modelswarm::cli {
namespace {

nlohmann::json result_json(const MirrorResult& r) {
  nlohmann::json j = {{"status", mirror_status_name(r.status)},
                      {"source", r.source},
                      {"name", r.name},
                      {"version", r.version},
                      {"info_hash", r.info_hash},
                      {"dir", r.dir.string()},
                      {"bytes_downloaded", r.bytes_downloaded},
                      {"seconds", r.seconds}};
  if (r.error)
    j["error"] = {{"code", error_code_name(r.error->code)}, {"message", r.error->message},
                  {"exit_code", exit_code_for(r.error->code)}};
  return j;
}

class MirrorCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("mirrorfile", file_, "Mirror file (JSON, format modelswarm.mirror/1)")->required();
    app.add_flag("--seed", seed_, "After mirroring, seed every release until interrupted");
    app.add_option("--stall-timeout", stall_timeout_,
                   "Give up on a release (exit 5) after this many seconds without progress while waiting on peers; 0: never")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--cacert", cacert_,
                   "PEM file of CA certificates trusted for https release URLs (a private CA), "
                   "besides the system store");
    flags_.add_to(app);
  }

  int run(const Globals& g) override {
    auto file = load_mirror_file(file_);
    if (!file.ok()) return report_error(g, file.error());
    if (seed_) install_reload_handler();
    for (;;) {
      int rc = mirror_and_seed(g, *file);
      if (!g_reload.exchange(false) || g_interrupted.load()) return rc;
      // A mirror file broken by an edit keeps the previous one in force rather than stopping.
      auto next = load_mirror_file(file_);
      if (next.ok()) file = std::move(next);
      else report_error(g, next.error());
      note(g, "SIGHUP: " + file_ + " read again");
    }
  }

 private:
  int mirror_and_seed(const Globals& g, const MirrorFile& mirror_file) {
    const MirrorFile* file = &mirror_file;
    EventPrinter printer(g);
    auto session = open_swarm_session(flags_, printer, [&](swarm::SessionSettings& s) {
      s.peers.insert(s.peers.end(), file->peers.begin(), file->peers.end());
      s.trackers.insert(s.trackers.end(), file->trackers.begin(), file->trackers.end());
    });
    if (!session.ok()) return report_error(g, session.error());

    MirrorOptions options;
    options.stall_timeout = std::chrono::seconds(stall_timeout_);
    options.http.ca_file = cacert_;
    options.on_result = [&](const MirrorResult& r) {
      printer.finish();
      if (g.json) {
        nlohmann::json j = result_json(r);
        j["event"] = "release";
        print_json(j);
      } else if (r.error) {
        std::fprintf(stderr, "modelswarm: error: %s\n", r.error->message.c_str());
      }
    };
    auto results = run_mirror(**session, *file, options, g_interrupted);

    // Exit code: 0 when every release is in place; else the first failure's category, so a
    // cron job can tell a trust problem from a network outage.
    int rc = kExitOk;
    std::map<std::string, int> counts;
    for (const auto& r : results) {
      ++counts[mirror_status_name(r.status)];
      if (r.error && rc == kExitOk) rc = exit_code_for(r.error->code);
    }
    if (g.json) {
      nlohmann::json summary = {{"event", "summary"}, {"releases", results.size()}, {"exit_code", rc}};
      for (const auto& [k, v] : counts) summary[k] = v;
      print_json(summary);
    } else {
      std::printf("%-10s %-32s %8s  %s\n", "STATUS", "NAME", "VERSION", "DIR");
      for (const auto& r : results)
        std::printf("%-10s %-32s %8lld  %s\n", mirror_status_name(r.status),
                    r.name.empty() ? r.source.substr(0, 32).c_str() : r.name.c_str(),
                    static_cast<long long>(r.version), r.dir.string().c_str());
    }
    if (rc != kExitOk || !seed_) return rc;

    swarm::SeedOptions so;
    std::set<std::string> keys;
    for (size_t i = 0; i < results.size(); ++i) {
      so.release_dirs.push_back(results[i].dir);
      for (const auto& k : file->releases[i].trust) keys.insert(k);
      if (looks_like_channel(file->releases[i].source))
        if (auto ref = parse_channel_ref(file->releases[i].source); ref.ok()) keys.insert(ref->key.to_base64());
    }
    so.trusted_keys.assign(keys.begin(), keys.end());
    // A SIGHUP ends seeding as a SIGINT does; run() then reads the file again.
    Status st = swarm::seed(**session, so, stop_or_reload_flag());
    printer.finish();
    if (!st.ok()) return report_error(g, st.error());
    return g_interrupted.load() ? kExitInterrupted : kExitOk;
  }

  std::string file_;
  bool seed_ = false;
  unsigned stall_timeout_ = 300;
  std::string cacert_;
  SwarmFlags flags_;
};

}  // namespace

MODELSWARM_COMMAND("mirror", "Fetch and verify every release a mirror file lists; optionally seed them", MirrorCommand);

}  // namespace modelswarm::cli
