// modelswarm verify: offline proof that a release directory is exactly what a trusted
// publisher signed.
#include "command.hpp"
#include "modelswarm/registry.hpp"
#include "modelswarm/release.hpp"
#include "modelswarm/trust.hpp"
#include "progress.hpp"

namespace modelswarm::cli {
namespace {

class VerifyCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("dir", dir_, "Release directory")->required();
    app.add_option("--trust", trust_, "Trusted public key (RW... or a .pub file); repeatable. "
                                      "Keys from `modelswarm trust add` are trusted too");
    app.add_flag("--allow-downgrade", allow_downgrade_, "Accept a version older than one already seen");
    app.add_flag("--full", full_, "Also hash whole files (a second pass; chunks already cover every byte)");
    app.add_option("--threads", threads_, "Hashing threads (default: all cores)");
  }

  int run(const Globals& g) override {
    VerifyOptions o;
    for (const auto& t : trust_) {
      auto k = load_public_key(t);
      if (!k.ok()) return report_error(g, Error::invalid_argument("--trust: " + k.error().message));
      o.trust.trusted_keys.push_back(*k);
    }
    auto stored = load_trusted_keys();
    if (!stored.ok()) return report_error(g, stored.error());
    for (const auto& k : *stored) o.trust.trusted_keys.push_back(k);
    o.trust.allow_downgrade = allow_downgrade_;
    o.content.check_file_sha256 = full_;
    o.content.threads = threads_;
    install_interrupt_handler();
    o.content.cancel = &g_interrupted;
    PercentLine line(g, "verifying");
    o.content.progress = [&](uint64_t d, uint64_t t) { line.update(d, t); };
    auto r = verify_release(dir_, o);
    line.finish();
    if (!r.ok()) return report_error(g, r.error());
    const Manifest& m = r->verified.manifest;
    int code = r->ok() ? kExitOk : kExitContent;
    if (r->ok()) {
      if (Status st = register_release_dir(dir_, m, r->content.stamps); !st.ok())
        note(g, "modelswarm: warning: not registered: " + st.error().message);
    }
    if (g.json) {
      nlohmann::json problems = nlohmann::json::array();
      for (const auto& p : r->content.problems) {
        nlohmann::json j = {{"kind", content_problem_name(p.kind)}, {"path", p.path}, {"message", p.message}};
        if (!p.chunk.empty()) j["chunk"] = p.chunk;
        problems.push_back(j);
      }
      print_json({{"verified", r->ok()},
                  {"name", m.name},
                  {"version", m.version},
                  {"key_id", m.publisher.key_id},
                  {"trusted_comment", r->verified.signature.trusted_comment},
                  {"files_checked", r->content.files_checked},
                  {"chunks_checked", r->content.chunks_checked},
                  {"bytes_checked", r->content.bytes_hashed},
                  {"problems", problems},
                  {"exit_code", code}});
    } else {
      for (const auto& p : r->content.problems) std::fprintf(stderr, "modelswarm: %s\n", p.message.c_str());
      if (r->ok())
        std::printf("verified %s version %llu: %llu files, %llu chunks, signed by %s\n", m.name.c_str(),
                    static_cast<unsigned long long>(m.version),
                    static_cast<unsigned long long>(r->content.files_checked),
                    static_cast<unsigned long long>(r->content.chunks_checked), m.publisher.key_id.c_str());
      else
        std::fprintf(stderr, "modelswarm: error: %s: %zu problem(s); the release does not match its signed manifest\n",
                     dir_.c_str(), r->content.problems.size());
    }
    return code;
  }

 private:
  std::string dir_;
  std::vector<std::string> trust_;
  bool allow_downgrade_ = false, full_ = false;
  unsigned threads_ = 0;
};

}  // namespace

MODELSWARM_COMMAND("verify", "Check a release against its signed manifest, offline", VerifyCommand);

}  // namespace modelswarm::cli
