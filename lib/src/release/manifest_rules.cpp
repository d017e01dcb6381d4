// Validation rules of a manifest, shared by the parser and by code that builds one.
#include <ctime>
#include <set>

#include "modelswarm/manifest.hpp"

namespace modelswarm {

std::string_view file_format_name(FileFormat f) {
  switch (f) {
    case FileFormat::gguf: return "gguf";
    case FileFormat::safetensors: return "safetensors";
    case FileFormat::other: return "other";
  }
  return "other";
}

const ManifestFile* Manifest::find_file(std::string_view path) const {
  for (const auto& f : files)
    if (f.path == path) return &f;
  return nullptr;
}

uint64_t Manifest::total_size() const {
  uint64_t t = 0;
  for (const auto& f : files) t += f.size;
  return t;
}

Status validate_release_path(std::string_view path) {
  std::string p(path);
  auto bad = [&](const char* why) { return Error::format("path \"" + p + "\": " + why); };
  if (path.empty()) return bad("empty");
  if (path.size() > 4096) return bad("too long");
  if (path.front() == '/') return bad("absolute paths are not allowed");
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) return bad("control characters are not allowed");
    if (c == '\\') return bad("backslashes are not allowed");
    if (c == ':') return bad("colons are not allowed");
  }
  size_t start = 0;
  bool first = true;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty()) return bad("empty path component");
    if (part == "." || part == "..") return bad("\".\" and \"..\" components are not allowed");
    if (part.size() > 255) return bad("component longer than 255 bytes");
    if (first && part == kReleaseMetaDir) return bad("\".modelswarm/\" is reserved");
    first = false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::success();
}

Status validate_release_name(std::string_view name) {
  std::string n(name);
  if (name.empty() || name.size() > 128)
    return Error::invalid_argument("release name \"" + n + "\": must be 1 to 128 characters");
  if (name.front() == '.' || name.front() == '-')
    return Error::invalid_argument("release name \"" + n + "\": must not start with '.' or '-'");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+';
    if (!ok)
      return Error::invalid_argument("release name \"" + n +
                                     "\": only letters, digits and . _ - + are allowed");
  }
  return Status::success();
}

std::optional<int64_t> parse_utc_time(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, se = 0;
  auto num = [&](size_t pos, size_t len, int& out) {
    if (pos + len > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  if (s.size() == 10) {
    if (!num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d)) return std::nullopt;
  } else if (s.size() == 20) {
    if (!num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) ||
        s[10] != 'T' || !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) || s[16] != ':' ||
        !num(17, 2, se) || s[19] != 'Z')
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) return std::nullopt;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return std::nullopt;
  // Days from the civil date (proleptic Gregorian), without depending on the local time zone.
  int yy = y - (mo <= 2);
  int era = yy / 400;
  int yoe = yy - era * 400;
  int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  return days * 86400 + h * 3600 + mi * 60 + se;
}

std::string format_utc_time(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status validate_manifest(const Manifest& m) {
  if (auto st = validate_release_name(m.name); !st.ok()) return Error::format(st.error().message);
  if (!parse_utc_time(m.created) || m.created.size() != 20)
    return Error::format("created \"" + m.created + "\": not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
  if (m.expires && (!parse_utc_time(*m.expires) || m.expires->size() != 20))
    return Error::format("expires \"" + *m.expires + "\": not an RFC 3339 UTC time");
  if (m.publisher.key_id.size() != 16)
    return Error::format("publisher.key_id: must be 16 hex digits");
  if (m.files.empty()) return Error::format("files: a release must hold at least one file");
  std::set<std::string> seen;
  for (size_t i = 0; i < m.files.size(); ++i) {
    const ManifestFile& f = m.files[i];
    MS_TRY(validate_release_path(f.path));
    if (i > 0 && !(m.files[i - 1].path < f.path))
      return Error::format("files: not sorted by path or duplicated at \"" + f.path + "\"");
    // A path may not be both a file and a directory of another file.
    for (size_t slash = f.path.find('/'); slash != std::string::npos; slash = f.path.find('/', slash + 1))
      if (seen.count(f.path.substr(0, slash)))
        return Error::format("files: \"" + f.path.substr(0, slash) + "\" is both a file and a directory");
    seen.insert(f.path);
    if (f.pieces_root.has_value() != (f.size > 0))
      return Error::format("files \"" + f.path + "\": pieces_root must be present exactly when size > 0");
    if (f.chunks.empty()) return Error::format("files \"" + f.path + "\": no chunks");
    if (f.format == FileFormat::other &&
        (f.chunks.size() != 1 || f.chunks[0].name != kWholeFileChunkName))
      return Error::format("files \"" + f.path + "\": a non-model file has exactly one \"(file)\" chunk");
    if (f.format != FileFormat::other && f.chunks[0].name != kHeaderChunkName)
      return Error::format("files \"" + f.path + "\": the first chunk of a model file is \"(header)\"");
    uint64_t pos = 0;
    std::set<std::string_view> names;
    for (const Chunk& c : f.chunks) {
      if (c.offset != pos)
        return Error::format("files \"" + f.path + "\": chunk \"" + c.name + "\" at offset " +
                             std::to_string(c.offset) + ", expected " + std::to_string(pos) +
                             " (chunks must cover the file contiguously)");
      if (c.size > f.size - pos)
        return Error::format("files \"" + f.path + "\": chunk \"" + c.name + "\" runs past the end of the file");
      pos += c.size;
      if (c.name.empty() || !names.insert(c.name).second)
        return Error::format("files \"" + f.path + "\": chunk name \"" + c.name + "\" empty or repeated");
      if (c.dtype.has_value() != c.shape.has_value())
        return Error::format("files \"" + f.path + "\": chunk \"" + c.name + "\": dtype and shape go together");
    }
    if (pos != f.size)
      return Error::format("files \"" + f.path + "\": chunks cover " + std::to_string(pos) + " of " +
                           std::to_string(f.size) + " bytes");
  }
  return Status::success();
}

}  // namespace modelswarm
