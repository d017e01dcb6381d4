// modelswarm keygen: a publisher key pair in minisign's formats.
#include "command.hpp"
#include "modelswarm/minisign.hpp"
#include "password.hpp"

namespace modelswarm::cli {
namespace {

class KeygenCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("-o,--output", base_, "Write BASE.key (secret, mode 0600) and BASE.pub")
        ->capture_default_str();
    app.add_flag("--no-password", no_password_, "Store the secret key unencrypted (automation)");
    app.add_option("--password-file", pw_.file, "Read the password from the first line of this file");
    app.add_flag("--fast-kdf", fast_kdf_,
                 "Encrypt with scrypt's interactive cost (16 MiB) instead of minisign's default (1 GiB)");
    app.add_flag("-f,--force", force_, "Overwrite existing key files");
  }

  int run(const Globals& g) override {
    std::optional<std::string> password;
    if (!no_password_) {
      auto pw = obtain_password(pw_, "the new secret key", true);
      if (!pw.ok()) return report_error(g, pw.error());
      password = std::move(*pw);
    }
    KeyPair kp = generate_key_pair();
    std::string sk_path = base_ + ".key", pk_path = base_ + ".pub";
    KdfLimits limits = fast_kdf_ ? kKdfInteractive : KdfLimits{};
    if (password && !fast_kdf_) note(g, "deriving the encryption key from the password (scrypt, about 1 GiB)...");
    Status st = write_key_pair(sk_path, pk_path, kp, password, force_, limits);
    if (password) wipe(*password);
    if (!st.ok()) return report_error(g, st.error());
    std::string pub = kp.public_key.to_base64();
    std::string id = key_id_hex(kp.public_key.id);
    if (g.json) {
      print_json({{"public_key", pub}, {"key_id", id}, {"secret_key_file", sk_path},
                  {"public_key_file", pk_path}, {"encrypted", !no_password_}});
    } else {
      note(g, "secret key: " + sk_path + (no_password_ ? " (unencrypted)" : " (encrypted)") +
                  ", public key: " + pk_path + ", key id " + id);
      std::printf("%s\n", pub.c_str());
    }
    return kExitOk;
  }

 private:
  std::string base_ = "modelswarm";
  bool no_password_ = false;
  bool force_ = false;
  bool fast_kdf_ = false;
  PasswordSource pw_;
};

}  // namespace

MODELSWARM_COMMAND("keygen", "Create a publisher key pair (minisign format)", KeygenCommand);

}  // namespace modelswarm::cli
