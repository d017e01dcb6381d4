// modelswarm fetch MAGNET|TORRENT_FILE|RELEASE_URL|KEY/NAME --trust KEY -o DIR : download and verify a release.
#include "command.hpp"
#include "swarm_cli.hpp"

namespace modelswarm::cli {
namespace {

class FetchCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("source", source_, "magnet:?... link, .torrent file, http(s):// URL of a release directory, or a publisher channel KEY/NAME (found on the DHT)")->required();
    app.add_option("--trust", trust_, "Trusted publisher key (RW... or .pub file; repeatable)");
    app.add_option("-o,--output", out_, "Directory that receives the release (as DIR/NAME)")->required();
    app.add_flag("--seed", seed_, "Keep seeding the verified release until interrupted");
    app.add_option("--web-seed", web_seeds_, "Extra HTTP source (BEP 19 URL; needs a .torrent source)");
    app.add_option("--cacert", cacert_,
                   "PEM file of CA certificates trusted for https (a private CA), besides the system store");
    app.add_flag("--no-reuse", no_reuse_, "Do not copy chunks from releases already on this machine");
    app.add_flag("--paranoid", paranoid_,
                 "Also hash every chunk against the manifest (a second pass; libtorrent's merkle "
                 "checks against the signed roots already prove each byte)");
    app.add_option("--stall-timeout", stall_timeout_,
                   "Give up (exit 5) after this many seconds without progress while waiting on peers; 0: never")
        ->check(CLI::NonNegativeNumber);
    flags_.add_to(app);
  }

  int run(const Globals& g) override {
    swarm::FetchOptions o;
    o.source = source_;
    o.trusted_keys = trust_;
    o.out_dir = out_;
    o.keep_seeding = seed_;
    o.web_seeds = web_seeds_;
    o.reuse = !no_reuse_;
    o.paranoid = paranoid_;
    o.http.ca_file = cacert_;
    o.stall_timeout = std::chrono::seconds(stall_timeout_);
    // Refusals that need no peer come before the session opens (and says it is listening).
    if (Status st = swarm::check_fetch_options(o); !st.ok()) return report_error(g, st.error());
    EventPrinter printer(g);
    auto session = open_swarm_session(flags_, printer);
    if (!session.ok()) return report_error(g, session.error());
    auto r = swarm::fetch(**session, o, g_interrupted);
    printer.finish();
    if (!r.ok()) return report_error(g, r.error());
    if (!g.json) std::printf("%s\n", r->release_dir.string().c_str());
    return seed_ && g_interrupted.load() ? kExitInterrupted : kExitOk;
  }

 private:
  std::string source_;
  std::vector<std::string> trust_;
  std::string out_;
  bool seed_ = false;
  bool no_reuse_ = false;
  bool paranoid_ = false;
  unsigned stall_timeout_ = 300;
  std::vector<std::string> web_seeds_;
  std::string cacert_;
  SwarmFlags flags_;
};

}  // namespace

MODELSWARM_COMMAND("fetch", "Download a release from peers and verify it against a trusted key", FetchCommand);

}  // namespace modelswarm::cli
