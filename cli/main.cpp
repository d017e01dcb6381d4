#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "command.hpp"

namespace modelswarm::cli {

namespace {
struct Entry {
  std::string summary;
  CommandFactory factory;
};
std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r;  // function-local: safe from static init order
  return r;
}
}  // namespace

bool register_command(const char* name, const char* summary, CommandFactory factory) {
  registry()[name] = Entry{summary, std::move(factory)};
  return true;
}

int exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return kExitUsage;
    case ErrorCode::format:
    case ErrorCode::unsupported: return kExitFormat;
    case ErrorCode::io: return kExitIo;
    case ErrorCode::trust: return kExitTrust;
    case ErrorCode::content: return kExitContent;
    case ErrorCode::network: return kExitNetwork;
    case ErrorCode::interrupted: return kExitInterrupted;
    case ErrorCode::internal: return kExitInternal;
  }
  return kExitInternal;
}

namespace {
// CLI11 checks required options before it looks for unknown ones, so `fetch x --bogus` would
// say "--output is required". The unknown flag is the real mistake: find it first.
std::string unknown_flag(const CLI::App& app, int argc, char** argv) {
  const CLI::App* sub = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string_view a(argv[i]);
    if (a == "--") break;
    if (!sub) {
      for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; }))
        if (s->get_name() == a) sub = s;
      continue;
    }
    if (a.size() < 2 || a[0] != '-' || (a[1] >= '0' && a[1] <= '9') || a[1] == '.') continue;
    std::string name(a.substr(0, a.find('=')));
    if (name.size() > 2 && name[1] != '-') name = name.substr(0, 2);  // -n5: the flag is -n
    if (!sub->get_subcommands([](const CLI::App*) { return true; }).empty()) return {};  // nested: let CLI11 judge
    if (!sub->get_option_no_throw(name) && !app.get_option_no_throw(name)) return name;
  }
  return {};
}

// CLI11 reads `--name=` (an empty value) as `--name` alone and takes the next argument as its
// value, so `run m --prompt= -n 4` had "-n" as its prompt. Splitting it into `--name` and an
// empty argument makes the value the empty string, as the user wrote.
std::vector<std::string> split_empty_values(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i].size() > 3 && args[i].compare(0, 2, "--") == 0 && args[i].back() == '=' &&
        args[i].find('=') == args[i].size() - 1) {
      args[i].pop_back();
      args.insert(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::string());
      ++i;
    }
  }
  return args;
}

void print_error_document(const Error& e, int exit_code) {
  print_json({{"error", {{"code", error_code_name(e.code)}, {"message", e.message}}},
              {"exit_code", exit_code}});
}
}  // namespace

int report_error(const Globals& g, const Error& e) {
  int code = exit_code_for(e.code);
  std::fprintf(stderr, "modelswarm: error: %s\n", e.message.c_str());
  if (g.json) print_error_document(e, code);
  return code;
}

void print_json(const nlohmann::json& doc) {
  // Invalid UTF-8 in names read from hostile files must not abort the dump.
  std::string s = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void note(const Globals& g, const std::string& line) {
  if (!g.quiet) std::fprintf(stderr, "%s\n", line.c_str());
}

std::atomic<bool> g_interrupted{false};
std::atomic<bool> g_reload{false};

namespace {
std::atomic<bool> g_stop_or_reload{false};

extern "C" void on_signal(int) {
  g_interrupted.store(true);
  g_stop_or_reload.store(true);
}
extern "C" void on_hangup(int) {
  g_reload.store(true);
  g_stop_or_reload.store(true);
}
}  // namespace

const std::atomic<bool>& stop_or_reload_flag() {
  // Cleared first: a signal arriving after this sets it again, one before it is seen below.
  g_stop_or_reload = false;
  if (g_interrupted.load() || g_reload.load()) g_stop_or_reload = true;
  return g_stop_or_reload;
}

void install_reload_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_hangup;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, nullptr);
}

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace modelswarm::cli

int main(int raw_argc, char** raw_argv) {
  using namespace modelswarm::cli;
  std::vector<std::string> args = split_empty_values(raw_argc, raw_argv);
  std::vector<char*> arg_ptrs;
  for (std::string& a : args) arg_ptrs.push_back(a.data());
  arg_ptrs.push_back(nullptr);
  const int argc = static_cast<int>(args.size());
  char** argv = arg_ptrs.data();
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is an I/O error, not a silent death

  CLI::App app{"modelswarm: distribute, verify and run model weights peer to peer"};
  app.name("modelswarm");
  app.set_version_flag("--version", std::string("modelswarm ") + MODELSWARM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the subcommand: `modelswarm verify DIR --json`

  Globals g;
  app.add_flag("--json", g.json, "Machine-readable output on stdout");
  app.add_flag("-q,--quiet", g.quiet, "No progress or informational output");

  std::map<std::string, std::unique_ptr<Command>> commands;
  std::map<std::string, CLI::App*> subapps;
  for (auto& [name, entry] : registry()) {
    auto cmd = entry.factory();
    CLI::App* sub = app.add_subcommand(name, entry.summary);
    cmd->configure(*sub);
    subapps[name] = sub;
    commands[name] = std::move(cmd);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& caught) {
    std::optional<CLI::ExtrasError> extras;
    if (dynamic_cast<const CLI::RequiredError*>(&caught))
      if (std::string bad = unknown_flag(app, argc, argv); !bad.empty())
        extras.emplace(std::vector<std::string>{bad});
    const CLI::ParseError& e = extras ? *extras : caught;
    int rc = app.exit(e);
    if (rc == 0) return kExitOk;  // --help, --version
    // The parse stopped early, so g.json may be unset; a script that asked for JSON still gets
    // its error document.
    for (int i = 1; i < argc; ++i)
      if (std::string_view(argv[i]) == "--json") {
        print_error_document(modelswarm::Error::invalid_argument(e.what()), kExitUsage);
        break;
      }
    return kExitUsage;
  }

  g.stderr_tty = isatty(STDERR_FILENO) != 0;
  const char* no_color = std::getenv("NO_COLOR");
  g.color = g.stderr_tty && !(no_color && *no_color);

  for (auto& [name, sub] : subapps) {
    if (sub->parsed()) {
      try {
        return commands[name]->run(g);
      } catch (const std::exception& e) {
        return report_error(g, modelswarm::Error::internal(std::string("unexpected: ") + e.what()));
      }
    }
  }
  return kExitUsage;
}
