#include "format/json_limits.hpp"

#include <set>
#include <vector>

#include "format/utf8.hpp"

namespace modelswarm::format {

namespace {
struct Reject {
  std::string why;
};
}  // namespace

Result<nlohmann::json> parse_untrusted_json(std::string_view text, const std::string& what,
                                            int max_depth) {
  if (!is_valid_utf8(text)) return Error::format(what + " is not valid UTF-8");
  using json = nlohmann::json;
  std::vector<std::set<std::string>> keys;  // one set per open object
  auto cb = [&](int depth, json::parse_event_t ev, json& parsed) -> bool {
    switch (ev) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= max_depth)
          throw Reject{"nests objects/arrays deeper than " + std::to_string(max_depth)};
        if (ev == json::parse_event_t::object_start) keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
          throw Reject{"has duplicate key \"" + printable_name(parsed.get<std::string>()) + "\""};
        break;
      default: break;
    }
    return true;
  };
  try {
    json j = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true);
    return j;
  } catch (const Reject& r) {
    return Error::format(what + " " + r.why);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based; nlohmann's own text is long and repeats the input.
    return Error::format(what + " is not valid JSON (syntax error near byte " +
                         std::to_string(e.byte) + ")");
  } catch (const std::exception& e) {
    return Error::format(what + " could not be parsed: " + e.what());
  }
}

}  // namespace modelswarm::format
