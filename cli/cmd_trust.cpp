// modelswarm trust add|list|remove: the publisher keys verify and fetch accept by default.
#include "command.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/trust.hpp"

namespace modelswarm::cli {
namespace {

class TrustCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.require_subcommand(1);
    add_ = app.add_subcommand("add", "Trust a public key (RW... or a minisign .pub file)");
    add_->add_option("key", key_, "Public key or .pub file")->required();
    list_ = app.add_subcommand("list", "List trusted keys");
    remove_ = app.add_subcommand("remove", "Stop trusting a key (by key id or public key)");
    remove_->add_option("key", key_, "Key id (16 hex digits) or public key")->required();
  }

  int run(const Globals& g) override {
    if (add_->parsed()) {
      auto k = load_public_key(key_);
      if (!k.ok()) return report_error(g, k.error());
      auto added = add_trusted_key(*k);
      if (!added.ok()) return report_error(g, added.error());
      if (g.json)
        print_json({{"key_id", key_id_hex(k->id)}, {"public_key", k->to_base64()}, {"added", *added}});
      else
        std::printf("%s %s %s\n", *added ? "trusted" : "already trusted", key_id_hex(k->id).c_str(),
                    k->to_base64().c_str());
      return kExitOk;
    }
    if (remove_->parsed()) {
      auto removed = remove_trusted_key(key_);
      if (!removed.ok()) return report_error(g, removed.error());
      if (!*removed) return report_error(g, Error::invalid_argument(key_ + ": not a trusted key"));
      if (g.json) print_json({{"removed", key_}});
      else std::printf("removed %s\n", key_.c_str());
      return kExitOk;
    }
    auto keys = load_trusted_keys();
    if (!keys.ok()) return report_error(g, keys.error());
    if (g.json) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& k : *keys) arr.push_back({{"key_id", key_id_hex(k.id)}, {"public_key", k.to_base64()}});
      print_json({{"keys", arr}, {"store", (state_dir() / "trusted_keys").string()}});
    } else {
      for (const auto& k : *keys) std::printf("%s %s\n", key_id_hex(k.id).c_str(), k.to_base64().c_str());
    }
    return kExitOk;
  }

 private:
  CLI::App* add_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* remove_ = nullptr;
  std::string key_;
};

}  // namespace

MODELSWARM_COMMAND("trust", "Manage trusted publisher keys", TrustCommand);

}  // namespace modelswarm::cli
