// Trust store and rollback state in state_dir(). Read-modify-write cycles hold an flock on
// state_dir()/lock so concurrent modelswarm processes do not lose each other's updates.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "crypto/minisign_util.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/trust.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxStateFile = 16u << 20;

class StateLock {
 public:
  static Result<StateLock> acquire() {
    MS_ASSIGN_OR_RETURN(fs::path dir, ensure_state_dir());
    fs::path p = dir / "lock";
    int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Error::io(p.string() + ": cannot open: " + std::strerror(errno));
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd);
        return Error::io(p.string() + ": cannot lock: " + std::strerror(errno));
      }
    }
    return StateLock(fd);
  }
  StateLock(StateLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StateLock(const StateLock&) = delete;
  ~StateLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

fs::path trust_file() { return state_dir() / "trusted_keys"; }
fs::path rollback_file() { return state_dir() / "rollback.json"; }

// Missing file: empty contents.
Result<std::string> read_optional(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::string();
  return read_small_file(p, kMaxStateFile);
}

std::string format_keys(const std::vector<PublicKey>& keys) {
  std::string out = "# modelswarm trusted publisher keys (minisign format), one per line\n";
  for (const auto& k : keys) out += k.to_base64() + "\n";
  return out;
}

Result<std::vector<PublicKey>> parse_keys(const std::string& text, const fs::path& origin) {
  std::vector<PublicKey> keys;
  std::istringstream in(text);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string_view t = detail::trim(line);
    if (t.empty() || t.front() == '#') continue;
    auto k = parse_public_key(t);
    if (!k.ok())
      return Error::format(origin.string() + ":" + std::to_string(n) + ": " + k.error().message);
    keys.push_back(*k);
  }
  return keys;
}

Result<nlohmann::json> load_rollback() {
  MS_ASSIGN_OR_RETURN(std::string text, read_optional(rollback_file()));
  if (text.empty()) return nlohmann::json::object();
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) throw std::runtime_error("not an object");
    return j;
  } catch (const std::exception& e) {
    return Error::format(rollback_file().string() + ": corrupt rollback state: " + e.what());
  }
}

std::string rollback_key(const std::string& key_id, const std::string& name) {
  return key_id + "/" + name;
}

}  // namespace

Result<std::vector<PublicKey>> load_trusted_keys() {
  MS_ASSIGN_OR_RETURN(std::string text, read_optional(trust_file()));
  return parse_keys(text, trust_file());
}

Result<bool> add_trusted_key(const PublicKey& key) {
  MS_ASSIGN_OR_RETURN(StateLock lock, StateLock::acquire());
  MS_ASSIGN_OR_RETURN(std::vector<PublicKey> keys, load_trusted_keys());
  for (const auto& k : keys)
    if (k == key) return false;
  keys.push_back(key);
  MS_TRY(write_file_atomic(trust_file(), format_keys(keys), 0644));
  return true;
}

Result<bool> remove_trusted_key(std::string_view key_id_or_key) {
  MS_ASSIGN_OR_RETURN(StateLock lock, StateLock::acquire());
  MS_ASSIGN_OR_RETURN(std::vector<PublicKey> keys, load_trusted_keys());
  std::string wanted(detail::trim(key_id_or_key));
  for (auto& c : wanted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  size_t before = keys.size();
  std::erase_if(keys, [&](const PublicKey& k) {
    std::string b64 = k.to_base64();
    std::string up = b64;
    for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return key_id_hex(k.id) == wanted || up == wanted;
  });
  if (keys.size() == before) return false;
  MS_TRY(write_file_atomic(trust_file(), format_keys(keys), 0644));
  return true;
}

Result<std::optional<uint64_t>> highest_seen_version(const std::string& key_id, const std::string& name) {
  MS_ASSIGN_OR_RETURN(nlohmann::json j, load_rollback());
  auto it = j.find(rollback_key(key_id, name));
  if (it == j.end()) return std::optional<uint64_t>();
  if (!it->is_number_unsigned())
    return Error::format(rollback_file().string() + ": corrupt entry for " + rollback_key(key_id, name));
  return std::optional<uint64_t>(it->get<uint64_t>());
}

Status record_seen_version(const std::string& key_id, const std::string& name, uint64_t version) {
  MS_ASSIGN_OR_RETURN(StateLock lock, StateLock::acquire());
  MS_ASSIGN_OR_RETURN(nlohmann::json j, load_rollback());
  std::string k = rollback_key(key_id, name);
  auto it = j.find(k);
  if (it != j.end() && it->is_number_unsigned() && it->get<uint64_t>() >= version) return Status::success();
  j[k] = version;
  return write_file_atomic(rollback_file(), j.dump(2) + "\n", 0644);
}

}  // namespace modelswarm
