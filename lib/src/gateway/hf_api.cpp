// Routes of the Hub's API that downloads use, answered from held releases.
#include "hf_api.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "modelswarm/release.hpp"
#include "modelswarm/sha256.hpp"

namespace modelswarm::gateway {

namespace {

using nlohmann::json;

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

// JSON error bodies as the Hub sends them ({"error": ...}); clients read X-Error-Code to tell
// a missing repo from a missing revision or file.
HttpResponse error(unsigned status, const std::string& message, const std::string& code = {}) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  if (!code.empty()) r.headers.emplace_back("X-Error-Code", code);
  r.headers.emplace_back("X-Error-Message", message);
  r.body = json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse json_response(const json& j) {
  HttpResponse r;
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

std::string sha1_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha1(), nullptr);
  return to_hex(std::span<const uint8_t>(md, n));
}

// The Hub stores large files in git LFS: the repo holds a pointer file, whose git blob id is
// the entry's "oid", and the file's SHA-256 is its LFS oid. Every release file is served so.
struct LfsView {
  std::string sha256, pointer_oid;
  std::uint64_t pointer_size = 0;
};
LfsView lfs_view(const ManifestFile& f) {
  LfsView v;
  v.sha256 = to_hex(f.sha256);
  std::string pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + v.sha256 + "\nsize " +
                        std::to_string(f.size) + "\n";
  v.pointer_size = pointer.size();
  v.pointer_oid = sha1_hex("blob " + std::to_string(pointer.size()) + std::string(1, '\0') + pointer);
  return v;
}

std::string revision_title(const HeldRelease& h) {
  return h.manifest.name + " version " + std::to_string(h.manifest.version);
}

json file_entry(const HeldRelease& h, const ManifestFile& f, bool expand) {
  LfsView v = lfs_view(f);
  json e = {{"type", "file"}, {"oid", v.pointer_oid}, {"size", f.size}, {"path", f.path},
            {"lfs", {{"oid", v.sha256}, {"size", f.size}, {"pointerSize", v.pointer_size}}}};
  if (expand)
    e["lastCommit"] = {{"id", h.commit}, {"title", revision_title(h)}, {"date", h.manifest.created}};
  return e;
}

json dir_entry(const HeldRelease& h, const std::string& path) {
  return {{"type", "directory"}, {"oid", sha1_hex("tree " + h.commit + "/" + path)}, {"size", 0}, {"path", path}};
}

// Every directory that holds a file of the release, by path.
std::set<std::string> directories(const Manifest& m) {
  std::set<std::string> dirs;
  for (const auto& f : m.files)
    for (size_t p = f.path.find('/'); p != std::string::npos; p = f.path.find('/', p + 1))
      dirs.insert(f.path.substr(0, p));
  return dirs;
}

json model_info(const HeldRelease& h) {
  json siblings = json::array();
  for (const auto& f : h.manifest.files) {
    LfsView v = lfs_view(f);
    siblings.push_back({{"rfilename", f.path}, {"size", f.size}, {"blobId", v.pointer_oid},
                        {"lfs", {{"sha256", v.sha256}, {"size", f.size}, {"pointerSize", v.pointer_size}}}});
  }
  return {{"_id", h.commit}, {"id", h.repo}, {"modelId", h.repo}, {"sha", h.commit},
          {"private", false}, {"disabled", false}, {"gated", false}, {"downloads", 0}, {"likes", 0},
          {"tags", json::array()}, {"createdAt", h.manifest.created}, {"lastModified", h.manifest.created},
          {"siblings", siblings},
          {"modelswarm", {{"name", h.manifest.name}, {"version", h.manifest.version},
                          {"info_hash", h.info_hash}, {"publisher", h.manifest.publisher.public_key}}}};
}

// The answer to a lookup that did not find a held release, or nullopt when it did.
std::optional<HttpResponse> not_held(const Lookup& l, const std::string& repo, const std::string& rev,
                                     std::chrono::seconds retry_after) {
  switch (l.kind) {
    case Lookup::Kind::held: return std::nullopt;
    case Lookup::Kind::unknown_repo:
      return error(404, "Repository not found: " + repo + " is not in this gateway's catalogue", "RepoNotFound");
    case Lookup::Kind::unknown_revision:
      return error(404, "Invalid rev id: " + rev, "RevisionNotFound");
    case Lookup::Kind::pending: {
      HttpResponse r = error(503, repo + "@" + rev + " is being fetched and verified; retry later");
      r.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
      return r;
    }
    case Lookup::Kind::failed:
      return error(502, repo + "@" + rev + ": the release could not be fetched and verified: " + l.message);
  }
  return std::nullopt;
}

struct Target {
  std::string path;
  std::map<std::string, std::string> query;
};

Target split_target(const std::string& target) {
  Target t;
  auto q = target.find('?');
  t.path = target.substr(0, q);
  if (q != std::string::npos)
    for (const auto& kv : split(std::string_view(target).substr(q + 1), '&')) {
      auto eq = kv.find('=');
      std::string k, v;
      if (!url_decode(kv.substr(0, eq), &k)) continue;
      if (eq != std::string::npos && !url_decode(kv.substr(eq + 1), &v)) continue;
      t.query[k] = v;
    }
  return t;
}

// Serves dir/path from the release when the file is the one this machine verified: opened
// without following links, and its stamp (size, times, inode) still that of the seed record.
HttpResponse serve_file(const HeldRelease& h, const ManifestFile& f, const HttpRequest& req) {
  std::string where = (h.dir / f.path).string();
  if (Status st = check_regular_in_release(h.dir, f.path); !st.ok())
    return error(500, "not served: " + st.error().message);
  int fd = ::open(where.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return error(500, "not served: " + where + ": cannot open");
  HttpResponse r;
  r.file_fd = fd;
  struct stat st {};
  auto rec = h.stamps.find(f.path);
  bool same = ::fstat(fd, &st) == 0 && rec != h.stamps.end() &&
              rec->second.size == static_cast<std::uint64_t>(st.st_size) && st.st_size >= 0 &&
              static_cast<std::uint64_t>(st.st_size) == f.size &&
              rec->second.mtime_ns == static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec &&
              rec->second.ctime_ns == static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec &&
              rec->second.inode == static_cast<std::uint64_t>(st.st_ino) &&
              rec->second.device == static_cast<std::uint64_t>(st.st_dev);
  if (!same)
    return error(500, "not served: " + where + " is not the file verified here (changed since, or never hashed "
                      "on this machine); run `modelswarm verify " + h.dir.string() + "`");
  std::string etag = "\"" + to_hex(f.sha256) + "\"";
  r.headers = {{"Content-Type", "application/octet-stream"},
               {"Accept-Ranges", "bytes"},
               {"X-Repo-Commit", h.commit},
               {"ETag", etag},
               {"X-Linked-Etag", etag},
               {"X-Linked-Size", std::to_string(f.size)}};
  std::uint64_t first = 0, length = f.size;
  bool whole = true;
  if (!parse_range(req.range, f.size, &first, &length, &whole)) {
    HttpResponse bad = error(416, "Range not satisfiable: " + req.range);
    bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(f.size));
    return bad;
  }
  if (!whole) {
    r.status = 206;
    r.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" +
                                                std::to_string(first + length - 1) + "/" + std::to_string(f.size));
  }
  r.file_offset = first;
  r.file_length = length;
  return r;
}

// /{repo}/resolve/{rev}/{path}; the repo id is one or two parts.
std::optional<HttpResponse> resolve_route(Holdings& holdings, const std::vector<std::string>& parts,
                                          const HttpRequest& req, std::chrono::seconds retry_after) {
  for (size_t k : {size_t(2), size_t(1)}) {
    if (parts.size() < k + 3 || parts[k] != "resolve") continue;
    std::string repo, rev, path, piece;
    for (size_t i = 0; i < k; ++i) {
      if (!url_decode(parts[i], &piece)) return error(400, "bad URL escape");
      repo += (i ? "/" : "") + piece;
    }
    if (!url_decode(parts[k + 1], &rev)) return error(400, "bad URL escape");
    for (size_t i = k + 2; i < parts.size(); ++i) {
      if (!url_decode(parts[i], &piece)) return error(400, "bad URL escape");
      path += (i > k + 2 ? "/" : "") + piece;
    }
    if (req.method != "GET" && req.method != "HEAD") return error(405, "method not allowed");
    Lookup l = holdings.acquire(repo, rev);
    if (auto r = not_held(l, repo, rev, retry_after)) return r;
    const ManifestFile* f = l.release->manifest.find_file(path);
    if (!f) return error(404, "Entry not found: " + path + " in " + repo + "@" + rev, "EntryNotFound");
    return serve_file(*l.release, *f, req);
  }
  return std::nullopt;
}

HttpResponse tree(const HeldRelease& h, std::string base, bool recursive, bool expand) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string prefix = base.empty() ? "" : base + "/";
  auto dirs = directories(h.manifest);
  if (!base.empty() && !dirs.count(base)) return error(404, "Entry not found: " + base, "EntryNotFound");
  json out = json::array();
  auto below = [&](const std::string& p) {
    if (p.compare(0, prefix.size(), prefix) != 0) return false;
    return recursive || p.find('/', prefix.size()) == std::string::npos;
  };
  for (const auto& d : dirs)
    if (below(d)) out.push_back(dir_entry(h, d));
  for (const auto& f : h.manifest.files)
    if (below(f.path)) out.push_back(file_entry(h, f, expand));
  return json_response(out);
}

HttpResponse paths_info(const HeldRelease& h, const HttpRequest& req) {
  std::vector<std::string> paths;
  bool expand = false;
  if (req.content_type.find("application/json") != std::string::npos) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("paths") || !body["paths"].is_array())
      return error(400, "expected {\"paths\": [...]}");
    for (const auto& p : body["paths"])
      if (p.is_string()) paths.push_back(p.get<std::string>());
    expand = body.value("expand", false);
  } else {  // a form, as huggingface_hub sends it: paths=a&paths=b&expand=True
    for (const auto& kv : split(req.body, '&')) {
      auto eq = kv.find('=');
      std::string k, v, raw = eq == std::string::npos ? "" : kv.substr(eq + 1);
      for (auto& c : raw)
        if (c == '+') c = ' ';
      if (!url_decode(kv.substr(0, eq), &k) || !url_decode(raw, &v)) return error(400, "bad form encoding");
      if (k == "paths") paths.push_back(v);
      if (k == "expand") expand = v == "True" || v == "true" || v == "1";
    }
  }
  auto dirs = directories(h.manifest);
  json out = json::array();
  for (const auto& p : paths) {
    if (const ManifestFile* f = h.manifest.find_file(p)) out.push_back(file_entry(h, *f, expand));
    else if (dirs.count(p)) out.push_back(dir_entry(h, p));
  }
  return json_response(out);
}

// /api/models/{repo}[/revision/{rev} | /tree/{rev}[/{path}] | /paths-info/{rev}]
std::optional<HttpResponse> api_route(Holdings& holdings, const std::vector<std::string>& parts,
                                      const HttpRequest& req, const Target& t, std::chrono::seconds retry_after) {
  if (parts.size() < 3 || parts[0] != "api") return std::nullopt;
  if (parts[1] != "models") return error(404, "Repository not found (this gateway serves models only)", "RepoNotFound");
  static const std::set<std::string> verbs{"revision", "tree", "paths-info"};
  size_t k = parts.size() >= 4 && !verbs.count(parts[3]) ? 2 : 1;  // repo id parts
  std::string repo, piece;
  for (size_t i = 2; i < 2 + k; ++i) {
    if (!url_decode(parts[i], &piece)) return error(400, "bad URL escape");
    repo += (i > 2 ? "/" : "") + piece;
  }
  size_t v = 2 + k;
  std::string verb = parts.size() > v ? parts[v] : "";
  std::string rev = "main";
  if (!verb.empty()) {
    if (!verbs.count(verb)) return error(404, "not found: " + t.path);
    if (parts.size() > v + 1 && !url_decode(parts[v + 1], &rev)) return error(400, "bad URL escape");
  }
  bool post = verb == "paths-info";
  if (req.method != (post ? "POST" : "GET") && !(req.method == "HEAD" && !post)) return error(405, "method not allowed");
  Lookup l = holdings.acquire(repo, rev);
  if (auto r = not_held(l, repo, rev, retry_after)) return r;
  if (verb.empty() || verb == "revision") return json_response(model_info(*l.release));
  if (verb == "paths-info") return paths_info(*l.release, req);
  std::string base, sub;
  for (size_t i = v + 2; i < parts.size(); ++i) {
    if (!url_decode(parts[i], &sub)) return error(400, "bad URL escape");
    base += (base.empty() ? "" : "/") + sub;
  }
  auto flag = [&](const char* name) {
    auto it = t.query.find(name);
    return it != t.query.end() && (it->second == "true" || it->second == "True" || it->second == "1");
  };
  return tree(*l.release, base, flag("recursive"), flag("expand"));
}

}  // namespace

HttpResponse handle_request(Holdings& holdings, const HttpRequest& req) {
  Target t = split_target(req.target);
  if (t.path.empty() || t.path[0] != '/') return error(400, "bad request target");
  std::vector<std::string> parts = split(std::string_view(t.path).substr(1), '/');
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  auto retry_after = holdings.retry_after();
  if (auto r = api_route(holdings, parts, req, t, retry_after)) return std::move(*r);
  if (auto r = resolve_route(holdings, parts, req, retry_after)) return std::move(*r);
  return error(404, "Repository not found", "RepoNotFound");
}

}  // namespace modelswarm::gateway
