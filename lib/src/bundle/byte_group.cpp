#include "bundle/byte_group.hpp"

#include <cassert>
#include <cstring>

namespace modelswarm {

namespace {

// Plain loops over fixed widths: the compiler vectorizes them; import speed depends on ungroup.
void group2(const uint8_t* in, uint8_t* out, size_t n) {
  uint8_t* hi = out;
  uint8_t* lo = out + n;
  for (size_t i = 0; i < n; ++i) {
    uint16_t v;
    std::memcpy(&v, in + 2 * i, 2);
    v = static_cast<uint16_t>((v << 1) | (v >> 15));
    hi[i] = static_cast<uint8_t>(v >> 8);
    lo[i] = static_cast<uint8_t>(v);
  }
}

void ungroup2(const uint8_t* in, uint8_t* out, size_t n) {
  const uint8_t* hi = in;
  const uint8_t* lo = in + n;
  for (size_t i = 0; i < n; ++i) {
    uint16_t v = static_cast<uint16_t>((hi[i] << 8) | lo[i]);
    v = static_cast<uint16_t>((v >> 1) | (v << 15));
    std::memcpy(out + 2 * i, &v, 2);
  }
}

void group4(const uint8_t* in, uint8_t* out, size_t n) {
  uint8_t* p3 = out;
  uint8_t* p2 = out + n;
  uint8_t* p1 = out + 2 * n;
  uint8_t* p0 = out + 3 * n;
  for (size_t i = 0; i < n; ++i) {
    uint32_t v;
    std::memcpy(&v, in + 4 * i, 4);
    v = (v << 1) | (v >> 31);
    p3[i] = static_cast<uint8_t>(v >> 24);
    p2[i] = static_cast<uint8_t>(v >> 16);
    p1[i] = static_cast<uint8_t>(v >> 8);
    p0[i] = static_cast<uint8_t>(v);
  }
}

void ungroup4(const uint8_t* in, uint8_t* out, size_t n) {
  const uint8_t* p3 = in;
  const uint8_t* p2 = in + n;
  const uint8_t* p1 = in + 2 * n;
  const uint8_t* p0 = in + 3 * n;
  for (size_t i = 0; i < n; ++i) {
    uint32_t v = (uint32_t{p3[i]} << 24) | (uint32_t{p2[i]} << 16) | (uint32_t{p1[i]} << 8) | p0[i];
    v = (v >> 1) | (v << 31);
    std::memcpy(out + 4 * i, &v, 4);
  }
}

}  // namespace

void byte_group(unsigned width, std::span<const uint8_t> in, std::span<uint8_t> out) {
  assert((width == 2 || width == 4) && in.size() == out.size());
  size_t n = in.size() / width;
  if (width == 2) group2(in.data(), out.data(), n);
  else group4(in.data(), out.data(), n);
  size_t tail = in.size() - n * width;
  if (tail) std::memcpy(out.data() + n * width, in.data() + n * width, tail);
}

void byte_ungroup(unsigned width, std::span<const uint8_t> in, std::span<uint8_t> out) {
  assert((width == 2 || width == 4) && in.size() == out.size());
  size_t n = in.size() / width;
  if (width == 2) ungroup2(in.data(), out.data(), n);
  else ungroup4(in.data(), out.data(), n);
  size_t tail = in.size() - n * width;
  if (tail) std::memcpy(out.data() + n * width, in.data() + n * width, tail);
}

}  // namespace modelswarm
