// Damaging files on purpose, for the tests that check damage is caught.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

namespace mstest {

// XORs the byte at `offset` of `file` with `mask` in place (the file keeps its size). The
// byte must exist.
inline void flip_byte(const std::filesystem::path& file, uint64_t offset, uint8_t mask = 0x40) {
  REQUIRE(offset < std::filesystem::file_size(file));
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ static_cast<char>(mask));
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
  REQUIRE(f);
}

}  // namespace mstest
