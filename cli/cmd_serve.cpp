// modelswarm serve --listen IP:PORT --catalogue FILE : the Hugging Face download API, answered
// from verified releases, fetching and seeding them through the swarm. SIGHUP re-reads the
// catalogue (systemd's ExecReload) and restarts the gateway on the same address.
#include <mutex>

#include "command.hpp"
#include "modelswarm/gateway.hpp"
#include "swarm_cli.hpp"

namespace modelswarm::cli {
namespace {

class ServeCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("--listen", listen_, "HTTP address, IP:PORT (default 127.0.0.1:8080; port 0 = any free port)");
    app.add_option("--catalogue", catalogue_, "Catalogue file (JSON, format modelswarm.catalogue/1)")->required();
    app.add_option("--wait", wait_,
                   "Seconds a request waits for a release being fetched before a 503 with Retry-After (default 60)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--stall-timeout", stall_timeout_,
                   "Give up on a fetch after this many seconds without progress while waiting on peers; 0: never")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--cacert", cacert_,
                   "PEM file of CA certificates trusted for https release URLs (a private CA), besides the system store");
    app.add_flag("--log-requests", log_requests_, "Print one line (JSON with --json) per HTTP request");
    flags_.add_to(app, "--swarm-listen");
  }

  int run(const Globals& g) override {
    auto catalogue = load_catalogue(catalogue_);
    if (!catalogue.ok()) return report_error(g, catalogue.error());
    auto settings = flags_.settings();
    if (!settings.ok()) return report_error(g, settings.error());
    install_interrupt_handler();
    install_reload_handler();

    // Two sessions (seeding and fetching) report from their own threads.
    std::mutex mu;
    EventPrinter printer(g);
    GatewayOptions o;
    o.listen = listen_;
    o.seeding = *settings;
    o.wait = std::chrono::seconds(wait_);
    o.stall_timeout = std::chrono::seconds(stall_timeout_);
    o.http.ca_file = cacert_;
    o.on_event = [&](const swarm::Event& e) {
      std::lock_guard lock(mu);
      printer(e);
    };
    o.on_listening = [&](int port) {
      std::lock_guard lock(mu);
      // A restart after SIGHUP listens where clients already point (also when port 0 was asked).
      o.listen = host_port_of(listen_, port);
      std::string url = "http://" + host_of(listen_) + ":" + std::to_string(port);
      if (g.json) print_json({{"event", "serving"}, {"url", url}, {"port", port}});
      else std::fprintf(stderr, "serving the Hugging Face API on %s (HF_ENDPOINT=%s)\n", url.c_str(), url.c_str());
    };
    o.on_release = [&](const MirrorResult& r) {
      std::lock_guard lock(mu);
      printer.finish();
      if (g.json) {
        nlohmann::json j = {{"event", "release"}, {"status", mirror_status_name(r.status)}, {"source", r.source},
                            {"name", r.name}, {"version", r.version}, {"info_hash", r.info_hash},
                            {"dir", r.dir.string()}};
        if (r.error) j["error"] = {{"code", error_code_name(r.error->code)}, {"message", r.error->message}};
        print_json(j);
      } else if (r.error) {
        std::fprintf(stderr, "modelswarm: error: %s\n", r.error->message.c_str());
      } else if (!g.quiet) {
        std::fprintf(stderr, "%s %s version %lld in %s\n", mirror_status_name(r.status), r.name.c_str(),
                     static_cast<long long>(r.version), r.dir.string().c_str());
      }
    };
    if (log_requests_)
      o.on_request = [&](const std::string& line) {
        std::lock_guard lock(mu);
        if (g.json) print_json({{"event", "request"}, {"request", line}});
        else std::fprintf(stderr, "%s\n", line.c_str());
      };
    for (;;) {
      Status st = run_gateway(*catalogue, o, stop_or_reload_flag());
      printer.finish();
      if (!st.ok()) return report_error(g, st.error());
      if (!g_reload.exchange(false) || g_interrupted.load()) break;
      // A catalogue broken by an edit keeps the previous one in force rather than stopping.
      auto next = load_catalogue(catalogue_);
      if (next.ok()) catalogue = std::move(next);
      else report_error(g, next.error());
      note(g, "SIGHUP: " + catalogue_ + " read again");
    }
    return g_interrupted.load() ? kExitInterrupted : kExitOk;
  }

 private:
  static std::string host_port_of(const std::string& listen, int port) {
    auto colon = listen.rfind(':');
    return (colon == std::string::npos ? listen : listen.substr(0, colon)) + ":" + std::to_string(port);
  }
  static std::string host_of(const std::string& listen) {
    auto colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
    return host == "0.0.0.0" ? "127.0.0.1" : host == "[::]" ? "[::1]" : host;
  }

  std::string listen_ = "127.0.0.1:8080";
  std::string catalogue_;
  unsigned wait_ = 60;
  unsigned stall_timeout_ = 300;
  std::string cacert_;
  bool log_requests_ = false;
  SwarmFlags flags_;
};

}  // namespace

MODELSWARM_COMMAND("serve", "Serve releases through the Hugging Face download API (HF_ENDPOINT), fetching and seeding them",
                   ServeCommand);

}  // namespace modelswarm::cli
