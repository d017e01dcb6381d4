// Byte builders for crafting model files in tests, including malformed ones that no writer
// would produce: every field is written exactly as the test says.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

namespace mstest {

struct Bytes {
  std::string b;

  template <class T>
  Bytes& put(T v) {
    char tmp[sizeof v];
    std::memcpy(tmp, &v, sizeof v);
    b.append(tmp, sizeof v);
    return *this;
  }
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& f32(float v) { return put(v); }
  Bytes& raw(std::string_view s) {
    b.append(s);
    return *this;
  }
  Bytes& str(std::string_view s) {  // GGUF string: u64 length + bytes
    u64(s.size());
    return raw(s);
  }
  Bytes& pad_to(size_t alignment, char fill = 0) {
    while (b.size() % alignment) b.push_back(fill);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.append(n, '\0');
    return *this;
  }
  size_t size() const { return b.size(); }
};

// A safetensors file: u64 header length + header + data.
inline std::string safetensors_bytes(const std::string& header, const std::string& data) {
  Bytes x;
  x.u64(header.size()).raw(header).raw(data);
  return x.b;
}

inline void write_bytes(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

}  // namespace mstest
