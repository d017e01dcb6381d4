// Real processes for end-to-end tests: run the CLI to completion, or start a long-running peer
// that is killed (whole process group) when its handle goes out of scope. Every wait is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace mstest {

struct ProcessResult {
  int exit_code = -1;     // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;        // stdout
  std::string err;        // stderr
};

// Runs argv[0] with arguments; kills it after `timeout`.
ProcessResult run(const std::vector<std::string>& argv,
                  std::chrono::seconds timeout = std::chrono::seconds(60),
                  const std::string& stdin_data = "");

// Runs the modelswarm CLI built with the tests.
ProcessResult run_cli(const std::vector<std::string>& args,
                      std::chrono::seconds timeout = std::chrono::seconds(60),
                      const std::string& stdin_data = "");

// A background process; stdout/stderr go to files so they can be read while it runs.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& log_prefix);
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  Background(Background&& o) noexcept;
  ~Background();  // SIGKILLs the process group if still running

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` and waits up to `timeout` for exit; returns the exit code (-1 on signal death).
  int stop(int sig, std::chrono::seconds timeout = std::chrono::seconds(20));
  // Waits for a natural exit, up to `timeout`; returns exit code, or -2 on timeout.
  int wait(std::chrono::seconds timeout);
  // Waits until the stdout log contains `needle`; false on timeout or exit.
  bool wait_for_output(const std::string& needle, std::chrono::seconds timeout);
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
  std::string out_path_, err_path_;
};

std::vector<std::string> cli_argv(const std::vector<std::string>& args);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data);

}  // namespace mstest
