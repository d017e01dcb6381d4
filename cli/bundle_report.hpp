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

}  // namespace modelswarm::cli
