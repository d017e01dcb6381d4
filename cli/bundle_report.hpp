// Shared rendering of bundle statistics for `export` and `import`.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "modelswarm/bundle.hpp"

namespace modelswarm::cli {

inline nlohmann::json bundle_stats_json(const BundleStats& s) {
  double ratio_base = s.bytes_in > s.bytes_out ? double(s.bytes_in) : double(s.bytes_out);
  double ratio_div = s.bytes_in > s.bytes_out ? double(s.bytes_out) : double(s.bytes_in);
  return {{"bytes_in", s.bytes_in},
          {"bytes_out", s.bytes_out},
          // release bytes / bundle bytes, whichever direction the data went
          {"ratio", ratio_div > 0 ? ratio_base / ratio_div : 0.0},
          {"seconds", s.seconds},
          {"sync_seconds", s.sync_seconds},
          {"frames", s.frames},
          {"raw_frames", s.raw_frames},
          {"grouped_frames", s.grouped_frames}};
}

inline std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= 1000000000ull) std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  else if (b >= 1000000ull) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  else std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(b));
  return buf;
}

}  // namespace modelswarm::cli
