// The reuse engine (store.hpp) on real releases: a GGUF whose metadata change shifted every
// tensor, corrupted sources, several candidates, cancellation.
#include <doctest/doctest.h>

#include <fstream>

#include "modelswarm/store.hpp"
#include "corrupt.hpp"
#include "store_fixture.hpp"

using namespace storetest;
using modelswarm::ReuseSource;

namespace {

using mstest::flip_byte;

// The chunk of v1 holding the most bytes (a big tensor), by index.
size_t biggest_chunk(const modelswarm::ManifestFile& f) {
  size_t best = 0;
  for (size_t i = 0; i < f.chunks.size(); ++i)
    if (f.chunks[i].size > f.chunks[best].size) best = i;
  return best;
}

std::string slice(const fs::path& file, uint64_t off, uint64_t size) {
  return mstest::read_file(file.string()).substr(off, size);
}

}  // namespace

TEST_CASE("reuse fills every shifted tensor of v2 from v1; only the header's pieces remain") {
  GgufPair p;
  fs::path staging = p.tmp / "staging";
  for (unsigned threads : {1u, 0u}) {
    fs::remove_all(staging);
    modelswarm::ReuseOptions o;
    o.threads = threads;
    uint64_t last_done = 0, last_total = 0;
    o.progress = [&](uint64_t d, uint64_t t) { last_done = std::max(last_done, d), last_total = t; };
    auto r = modelswarm::reuse_chunks(p.v2.manifest, staging, {ReuseSource{p.v1.dir, p.v1.manifest}}, o);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    const auto& file = p.v2.manifest.files[0];
    const uint64_t header = file.chunks[0].size;
    CHECK(r->chunks_total == file.chunks.size());
    CHECK(r->chunks_reused == file.chunks.size() - 1);
    CHECK(r->chunks_rejected == 0);
    CHECK(r->bytes_reused == file.size - header);
    CHECK(r->bytes_read == r->bytes_reused);
    CHECK(r->warnings.empty());
    CHECK(last_done == last_total);
    CHECK(last_total == r->bytes_reused);
    REQUIRE(r->present.size() == 1);
    CHECK(r->present[0].front().offset == header);
    CHECK(fs::file_size(staging / "model.gguf") == file.size);

    uint64_t need = modelswarm::bytes_to_download(p.v2.manifest, r->present, p.v2.piece_size);
    MESSAGE("to download: " << need << " of " << file.size << " bytes");
    CHECK(need >= header);
    CHECK(need * 50 <= file.size);

    // With the header in place (what the download brings), the file is v2 exactly.
    std::string hdr = slice(p.v2.dir / "model.gguf", 0, header);
    {
      std::fstream f(staging / "model.gguf", std::ios::in | std::ios::out | std::ios::binary);
      f.write(hdr.data(), static_cast<std::streamsize>(hdr.size()));
    }
    auto v = modelswarm::verify_chunks(staging, p.v2.manifest);
    REQUIRE(v.ok());
    CHECK(v->ok());
  }
}

TEST_CASE("a corrupted source contributes nothing for its bad chunk; a second copy is used") {
  GgufPair p;
  const auto& f1 = p.v1.manifest.files[0];
  const auto& bad = f1.chunks[biggest_chunk(f1)];
  flip_byte(p.v1.dir / "model.gguf", bad.offset + bad.size / 2);

  SUBCASE("only the corrupted copy: the chunk is skipped and reported") {
    fs::path staging = p.tmp / "staging";
    auto r = modelswarm::reuse_chunks(p.v2.manifest, staging, {ReuseSource{p.v1.dir, p.v1.manifest}});
    REQUIRE(r.ok());
    const auto& file = p.v2.manifest.files[0];
    CHECK(r->chunks_rejected == 1);
    CHECK(r->chunks_reused == file.chunks.size() - 2);
    CHECK(r->bytes_reused == file.size - file.chunks[0].size - bad.size);
    REQUIRE(r->warnings.size() == 1);
    CHECK(r->warnings[0].find("model.gguf") != std::string::npos);
    CHECK(r->warnings[0].find(bad.name) != std::string::npos);
    for (const auto& range : r->present[0]) {
      CHECK(range.size != 0);
      // No present range is the corrupted tensor, and every present range holds v2's bytes.
      CHECK(slice(staging / "model.gguf", range.offset, range.size) ==
            slice(p.v2.dir / "model.gguf", range.offset, range.size));
    }
    uint64_t need = modelswarm::bytes_to_download(p.v2.manifest, r->present, p.v2.piece_size);
    CHECK(need >= bad.size + file.chunks[0].size);
    // Not one byte of the refused copy stays in the target, not even its intact parts.
    for (const auto& c : file.chunks)
      if (c.name == bad.name) CHECK(slice(staging / "model.gguf", c.offset, c.size) == std::string(c.size, '\0'));
  }

  SUBCASE("a second, intact release with the same tensor supplies it") {
    mstest::TempDir other;
    write_gguf(other / "v1b" / "model.gguf", "tiny", GgufShape{});
    Packed good = pack(other / "v1b", "tiny", 1, 64 << 10);
    modelswarm::ReuseOptions o;
    o.threads = 2;
    auto r = modelswarm::reuse_chunks(p.v2.manifest, p.tmp / "staging2",
                                      {ReuseSource{p.v1.dir, p.v1.manifest}, ReuseSource{good.dir, good.manifest}}, o);
    REQUIRE(r.ok());
    const auto& file = p.v2.manifest.files[0];
    CHECK(r->chunks_reused == file.chunks.size() - 1);
    CHECK(r->bytes_reused == file.size - file.chunks[0].size);
    CHECK(r->chunks_rejected == 1);  // the corrupted copy, tried first and refused
  }
}

TEST_CASE("reuse: missing sources are warnings; already-present chunks are not rewritten") {
  GgufPair p;
  fs::path staging = p.tmp / "staging";
  ReuseSource gone{p.tmp / "gone", p.v1.manifest};
  modelswarm::ReuseOptions o;
  // Pretend the first tensor is already verified in the target: it must not be written.
  const auto& target_chunks = p.v2.manifest.files[0].chunks;
  o.already_present = [&](size_t, const modelswarm::Chunk& c) { return c.offset == target_chunks[1].offset; };
  auto r = modelswarm::reuse_chunks(p.v2.manifest, staging, {gone, ReuseSource{p.v1.dir, p.v1.manifest}}, o);
  REQUIRE(r.ok());
  CHECK(r->chunks_present == 1);
  CHECK(r->chunks_reused == target_chunks.size() - 2);
  CHECK(!r->warnings.empty());
  CHECK(r->warnings[0].find("gone") != std::string::npos);
  // The already-present chunk's range was not written: the sparse file still reads as zeros.
  std::string untouched = slice(staging / "model.gguf", target_chunks[1].offset, target_chunks[1].size);
  CHECK(untouched == std::string(target_chunks[1].size, '\0'));
  // ... but it is part of `present`, so it counts towards complete pieces.
  bool listed = false;
  for (const auto& range : r->present[0]) listed = listed || range.offset == target_chunks[1].offset;
  CHECK(listed);
}

TEST_CASE("reuse: no source, no file written; a cancelled run is an interrupted error") {
  GgufPair p;
  auto none = modelswarm::reuse_chunks(p.v2.manifest, p.tmp / "staging", {});
  REQUIRE(none.ok());
  CHECK(none->bytes_reused == 0);
  CHECK(!fs::exists(p.tmp / "staging" / "model.gguf"));

  std::atomic<bool> cancel{true};
  modelswarm::ReuseOptions o;
  o.cancel = &cancel;
  auto r = modelswarm::reuse_chunks(p.v2.manifest, p.tmp / "staging", {ReuseSource{p.v1.dir, p.v1.manifest}}, o);
  REQUIRE(!r.ok());
  CHECK(r.error().code == modelswarm::ErrorCode::interrupted);
}

TEST_CASE("reuse: the target directory cannot be written: io error naming it") {
  GgufPair p;
  mstest::write_file((p.tmp / "blocker").string(), "x");
  auto r = modelswarm::reuse_chunks(p.v2.manifest, p.tmp / "blocker" / "sub", {ReuseSource{p.v1.dir, p.v1.manifest}});
  REQUIRE(!r.ok());
  CHECK(r.error().code == modelswarm::ErrorCode::io);
  CHECK(r.error().message.find("blocker") != std::string::npos);
}
