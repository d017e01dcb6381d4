#include "infer_cli.hpp"

#include <charconv>

#include "modelswarm/hf_checkpoint.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/release.hpp"
#include "modelswarm/trust.hpp"

namespace modelswarm::cli {

namespace fs = std::filesystem;

namespace {

Status verify_release_dir(const fs::path& dir, const std::vector<std::string>& trust, const Globals& g) {
  VerifyOptions o;
  for (const auto& k : trust) {
    MS_ASSIGN_OR_RETURN(PublicKey key, load_public_key(k));
    o.trust.trusted_keys.push_back(key);
  }
  MS_ASSIGN_OR_RETURN(std::vector<PublicKey> store, load_trusted_keys());
  o.trust.trusted_keys.insert(o.trust.trusted_keys.end(), store.begin(), store.end());
  bool announced = false;
  o.content.progress = [&](uint64_t, uint64_t) {
    if (!announced) note(g, "verifying release " + dir.string() + " ...");
    announced = true;
  };
  MS_ASSIGN_OR_RETURN(StampedVerify v, verify_release_stamped(dir, o));
  if (v.from_stamp) note(g, "release " + dir.string() + " verified before and unchanged since");
  else note(g, "verified " + v.name + " version " + std::to_string(v.version));
  return Status::success();
}

}  // namespace

void add_trust_option(CLI::App& app, std::vector<std::string>& trust) {
  app.add_option("--trust", trust,
                 "For a release directory: a trusted publisher key (RW... or a .pub file); repeatable. "
                 "Keys from `modelswarm trust add` are trusted too");
}

Result<fs::path> resolve_model(const std::string& arg, const std::vector<std::string>& trust, const Globals& g) {
  fs::path p(arg);
  std::error_code ec;
  if (!fs::exists(p, ec)) return Error::io(arg + ": no such file or directory");
  if (!fs::is_directory(p, ec)) return p;
  if (fs::exists(p / ".modelswarm" / "manifest.json", ec)) {
    auto r = verify_release_dir(p, trust, g);
    if (!r.ok()) return r.error();
  }
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(p, ec))
    if (e.is_regular_file() && e.path().extension() == ".gguf") found.push_back(e.path());
  if (ec) return Error::io(arg + ": cannot list: " + ec.message());
  if (found.empty() && is_hf_checkpoint_dir(p)) return p;
  if (found.size() != 1)
    return Error::invalid_argument(arg + ": expected exactly one .gguf file in the directory, found " +
                                   std::to_string(found.size()));
  return found.front();
}

HfLoadOptions hf_load_options(bool prompt_is_token_ids, unsigned threads) {
  HfLoadOptions o;
  o.require_tokenizer = !prompt_is_token_ids;
  o.threads = threads;
  return o;
}

Result<std::vector<int32_t>> parse_token_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ',' || text[i] == ' ' || text[i] == '\t' || text[i] == '\n') {
      ++i;
      continue;
    }
    int32_t v = 0;
    auto [end, err] = std::from_chars(text.data() + i, text.data() + text.size(), v);
    if (err != std::errc() || v < 0)
      return Error::invalid_argument("--tokens: '" + text + "' is not a list of token ids");
    ids.push_back(v);
    i = static_cast<size_t>(end - text.data());
  }
  if (ids.empty()) return Error::invalid_argument("--tokens: no token ids given");
  return ids;
}

Status select_kernel(const std::string& name) { return set_kernel_isa(name); }

}  // namespace modelswarm::cli
