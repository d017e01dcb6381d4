#include <cctype>
#include <string>

#include "modelswarm/bundle.hpp"

namespace modelswarm {

uint64_t BundleLayout::total_bytes() const {
  uint64_t t = 0;
  for (const BundleFile& f : files) t += f.size;
  return t;
}

unsigned float_width_for_dtype(std::string_view dtype) {
  // GGUF and safetensors both spell these in upper case; accept either case all the same.
  std::string d(dtype);
  for (char& c : d) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (d == "BF16" || d == "F16" || d == "FP16") return 2;
  if (d == "F32" || d == "FP32") return 4;
  return 0;
}

}  // namespace modelswarm
