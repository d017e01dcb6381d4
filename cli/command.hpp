// Subcommand plumbing shared by every cli/cmd_*.cpp file: self-registration, global flags,
// output conventions (results on stdout, progress and errors on stderr) and exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "modelswarm/error.hpp"

namespace modelswarm::cli {

// Documented in man/modelswarm.1 (EXIT STATUS); scripts rely on them, never renumber.
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,     // a bug, or an error with no better category
  kExitUsage = 2,        // bad flags or arguments
  kExitTrust = 3,        // bad signature, untrusted key, rollback, expired release
  kExitContent = 4,      // bytes differ from the signed manifest (missing/extra/corrupt files)
  kExitNetwork = 5,      // peers, trackers, sockets
  kExitIo = 6,           // the OS refused: open/read/write/disk full
  kExitFormat = 7,       // a malformed or unsupported input file
  kExitInterrupted = 130 // SIGINT/SIGTERM
};

int exit_code_for(ErrorCode code);

// Flags every subcommand accepts.
struct Globals {
  bool json = false;   // machine-readable stdout (one document, or JSON lines for long work)
  bool quiet = false;  // no progress, no informational stderr output
  bool color = false;  // stderr is a TTY and NO_COLOR is unset
  bool stderr_tty = false;
};

class Command {
 public:
  virtual ~Command() = default;
  // Declare flags and positionals on `app` (the subcommand).
  virtual void configure(CLI::App& app) = 0;
  // Called after a successful parse; returns the process exit code.
  virtual int run(const Globals& globals) = 0;
};

using CommandFactory = std::function<std::unique_ptr<Command>()>;
bool register_command(const char* name, const char* summary, CommandFactory factory);

// Reports a failure the same way for every command: one line on stderr; with --json also a
// document {"error":{"code":..,"message":..},"exit_code":N} on stdout. Returns the exit code.
int report_error(const Globals& g, const Error& e);
// Prints a JSON document (one line) on stdout.
void print_json(const nlohmann::json& doc);
// Informational line on stderr, suppressed by --quiet.
void note(const Globals& g, const std::string& line);

// Set by SIGINT/SIGTERM once install_interrupt_handler() ran; long-running commands poll it.
extern std::atomic<bool> g_interrupted;
void install_interrupt_handler();
// Set by SIGHUP once install_reload_handler() ran: a daemon re-reads its configuration file
// (systemd's ExecReload). The flag stop_or_reload_flag() returns is set by SIGINT, SIGTERM and
// SIGHUP alike, for library calls that watch one stop flag; each call re-arms it first (true at
// once when a signal is already pending).
extern std::atomic<bool> g_reload;
void install_reload_handler();
const std::atomic<bool>& stop_or_reload_flag();

}  // namespace modelswarm::cli

#define MODELSWARM_CONCAT_INNER_(a, b) a##b
#define MODELSWARM_CONCAT_(a, b) MODELSWARM_CONCAT_INNER_(a, b)
// Usage, at namespace scope in a cli/cmd_*.cpp file:
//   MODELSWARM_COMMAND("inspect", "Show a model's tensors", InspectCommand)
#define MODELSWARM_COMMAND(name, summary, Class)                                            \
  static const bool MODELSWARM_CONCAT_(modelswarm_registered_, __LINE__) =                 \
      ::modelswarm::cli::register_command(name, summary, [] { return std::make_unique<Class>(); })
