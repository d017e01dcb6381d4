#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tempdir.hpp"

namespace mstest {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> v;
  for (const auto& a : argv) v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

[[noreturn]] void exec_child(const std::vector<std::string>& argv) {
  setpgid(0, 0);  // own process group: kill() reaches grandchildren too
  auto v = c_argv(argv);
  execvp(v[0], v.data());
  std::fprintf(stderr, "exec %s: %s\n", v[0], std::strerror(errno));
  _exit(127);
}

int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

std::vector<std::string> cli_argv(const std::vector<std::string>& args) {
  std::vector<std::string> v{MODELSWARM_CLI};
  v.insert(v.end(), args.begin(), args.end());
  return v;
}

ProcessResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                  const std::string& stdin_data) {
  int in[2], out[2], err[2];
  if (pipe(in) || pipe(out) || pipe(err)) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(err[0]); close(err[1]);
    exec_child(argv);
  }
  setpgid(pid, pid);
  close(in[0]); close(out[1]); close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  if (!stdin_data.empty()) {
    ssize_t ignored = write(in[1], stdin_data.data(), stdin_data.size());
    (void)ignored;
  }
  close(in[1]);

  ProcessResult r;
  auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    int n = poll(fds, 2, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t got = read(fds[i].fd, buf, sizeof buf);
        if (got <= 0) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        } else {
          (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(got));
        }
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = r.timed_out ? -1 : decode_status(status);
  return r;
}

ProcessResult run_cli(const std::vector<std::string>& args, std::chrono::seconds timeout,
                      const std::string& stdin_data) {
  return run(cli_argv(args), timeout, stdin_data);
}

Background::Background(const std::vector<std::string>& argv, const std::string& log_prefix)
    : out_path_(log_prefix + ".out"), err_path_(log_prefix + ".err") {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int o = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int n = open("/dev/null", O_RDONLY);
    dup2(n, 0); dup2(o, 1); dup2(e, 2);
    exec_child(argv);
  }
  setpgid(pid_, pid_);
}

Background::Background(Background&& o) noexcept
    : pid_(o.pid_), status_(o.status_), exited_(o.exited_),
      out_path_(std::move(o.out_path_)), err_path_(std::move(o.err_path_)) {
  o.pid_ = -1;
}

Background::~Background() {
  if (pid_ > 0 && !exited_) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
}

bool Background::running() {
  if (pid_ <= 0 || exited_) return false;
  pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) exited_ = true;
  return !exited_;
}

int Background::wait(std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() > deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return decode_status(status_);
}

int Background::stop(int sig, std::chrono::seconds timeout) {
  if (running()) kill(pid_, sig);
  int rc = wait(timeout);
  if (rc == -2) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    exited_ = true;
    return -1;
  }
  return rc;
}

bool Background::wait_for_output(const std::string& needle, std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (out().find(needle) != std::string::npos) return true;
    if (!running()) return out().find(needle) != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string Background::out() const { return read_file(out_path_); }
std::string Background::err() const { return read_file(err_path_); }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

}  // namespace mstest
