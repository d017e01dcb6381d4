// Parsing untrusted JSON (safetensors headers, index files, config.json) with nlohmann::json:
// UTF-8 checked first for a clear message, nesting depth capped, duplicate keys refused
// (nlohmann would silently keep the last one).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "modelswarm/error.hpp"

namespace modelswarm::format {

// `what` names the document in errors, e.g. "model.safetensors: header".
Result<nlohmann::json> parse_untrusted_json(std::string_view text, const std::string& what,
                                            int max_depth);

}  // namespace modelswarm::format
