#include "password.hpp"

#include <sodium.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "modelswarm/paths.hpp"

namespace modelswarm::cli {

namespace {

constexpr size_t kMaxPassword = 1024;

// The terminal state to put back if a signal ends the process at the prompt: Ctrl-C must not
// leave the user's shell without echo.
termios g_saved_tty {};

extern "C" void restore_tty_and_die(int sig) {
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_tty);  // async-signal-safe
  signal(sig, SIG_DFL);
  raise(sig);
}

Result<std::string> prompt_no_echo(const std::string& prompt) {
  termios old {};
  bool restore = tcgetattr(STDIN_FILENO, &old) == 0;
  struct sigaction previous[3] {};
  const int signals[3] = {SIGINT, SIGTERM, SIGHUP};
  if (restore) {
    g_saved_tty = old;
    struct sigaction sa {};
    sa.sa_handler = restore_tty_and_die;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; ++i) sigaction(signals[i], &sa, &previous[i]);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::fprintf(stderr, "%s", prompt.c_str());
  std::fflush(stderr);
  std::string line;
  bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (restore) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    for (int i = 0; i < 3; ++i) sigaction(signals[i], &previous[i], nullptr);
  }
  std::fprintf(stderr, "\n");
  if (!ok) return Error::invalid_argument("no password entered");
  if (line.size() > kMaxPassword) return Error::invalid_argument("password longer than 1024 bytes");
  return line;
}

}  // namespace

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

Result<std::string> obtain_password(const PasswordSource& src, const std::string& what, bool confirm) {
  if (!src.file.empty()) {
    MS_ASSIGN_OR_RETURN(std::string text, read_small_file(src.file, kMaxPassword + 2));
    std::string pw = text.substr(0, text.find('\n'));
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    wipe(text);
    if (pw.empty()) return Error::invalid_argument(src.file + ": empty password");
    return pw;
  }
  if (const char* env = std::getenv("MODELSWARM_PASSWORD"); env && *env) return std::string(env);
  if (!isatty(STDIN_FILENO))
    return Error::invalid_argument(what + " needs a password and stdin is not a terminal; set "
                                   "MODELSWARM_PASSWORD or use --password-file");
  MS_ASSIGN_OR_RETURN(std::string pw, prompt_no_echo("Password for " + what + ": "));
  if (confirm) {
    MS_ASSIGN_OR_RETURN(std::string again, prompt_no_echo("Password (again): "));
    bool same = again == pw;
    wipe(again);
    if (!same) {
      wipe(pw);
      return Error::invalid_argument("the passwords do not match");
    }
  }
  if (pw.empty()) return Error::invalid_argument("empty password (use --no-password for an unencrypted key)");
  return pw;
}

Result<SecretKey> load_secret_key(const std::string& path, const PasswordSource& src) {
  MS_ASSIGN_OR_RETURN(std::string text, read_small_file(path, 4096));
  auto enc = secret_key_file_is_encrypted(text, path);
  if (!enc.ok()) {
    wipe(text);
    return enc.error();
  }
  std::optional<std::string> pw;
  if (*enc) {
    auto p = obtain_password(src, path, false);
    if (!p.ok()) {
      wipe(text);
      return p.error();
    }
    pw = std::move(*p);
  }
  auto key = parse_secret_key_file(text, path, pw);
  wipe(text);
  if (pw) wipe(*pw);
  return key;
}

}  // namespace modelswarm::cli
