// Sizes and dates on the command line: parsing what users type, and the one way every command
// prints a size (binary multiples, as parse_size reads them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace modelswarm::cli {

// "16384", "16K", "4M", "4MiB", "1G" (binary multiples). nullopt when malformed.
std::optional<uint64_t> parse_size(const std::string& s);

// "1.5 MiB", "512 B": binary multiples, one decimal from KiB up. Rates print as
// format_size(bytes per second) + "/s".
std::string format_size(uint64_t bytes);

// "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ", or "@SECONDS" since the epoch.
std::optional<int64_t> parse_date(const std::string& s);

}  // namespace modelswarm::cli
