// The util layer's shared pieces: the parallel-jobs rules (first error wins, cancellation,
// serialised progress), the file layer's short-read reporting and memory map, and the one
// UTF-8 decoder's strict and lenient views.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tempdir.hpp"
#include "process.hpp"
#include "util/file_io.hpp"
#include "util/parallel_jobs.hpp"
#include "util/utf8.hpp"

using namespace modelswarm;

TEST_CASE("worker_threads: 0 is every core, never more threads than jobs, never none") {
  CHECK(worker_threads(0) == std::max(1u, std::thread::hardware_concurrency()));
  CHECK(worker_threads(8, 3) == 3);
  CHECK(worker_threads(3, 0) == 1);
  CHECK(worker_threads(2, 100) == 2);
}

TEST_CASE("parallel jobs: every job runs once, each thread keeps its own state") {
  std::vector<std::atomic<int>> runs(1000);
  ParallelJobs jobs(runs.size(), 4, nullptr, "stopped");
  struct State {
    std::thread::id owner = std::this_thread::get_id();
  };
  Status st = jobs.run<State>([&](size_t i, State& s) -> Status {
    CHECK(s.owner == std::this_thread::get_id());
    runs[i]++;
    return {};
  });
  CHECK(st.ok());
  for (auto& r : runs) CHECK(r.load() == 1);
}

TEST_CASE("parallel jobs: the first error wins and no job starts after it") {
  std::atomic<size_t> started{0};
  ParallelJobs jobs(10000, 2, nullptr, "stopped");
  std::atomic<int> stops{0};
  jobs.on_stop([&] { stops++; });
  Status st = jobs.run<char>([&](size_t i, char&) -> Status {
    started++;
    if (i == 10) return Error::io("job 10 failed");
    if (i > 10) return Error::format("later failure");
    return {};
  });
  REQUIRE(!st.ok());
  CHECK(stops.load() == 1);
  // Jobs are taken in order: the failing job 10 or one taken right after it decides.
  CHECK(started.load() < 100);
  CHECK(jobs.stopped());
}

TEST_CASE("parallel jobs: cancellation stops the run with the caller's message") {
  std::atomic<bool> cancel{false};
  ParallelJobs jobs(1000, 2, &cancel, "hashing interrupted");
  std::atomic<size_t> done{0};
  Status st = jobs.run<char>([&](size_t i, char&) -> Status {
    if (i == 5) cancel = true;
    done++;
    return {};
  });
  REQUIRE(!st.ok());
  CHECK(st.error().code == ErrorCode::interrupted);
  CHECK(st.error().message == "hashing interrupted");
  CHECK(done.load() < 1000);
}

TEST_CASE("progress: one call at a time, done increasing, total fixed") {
  std::atomic<int> inside{0};
  uint64_t last = 0;
  bool ordered = true, overlapped = false;
  ProgressCounter progress(
      [&](uint64_t done, uint64_t total) {
        if (inside.fetch_add(1) != 0) overlapped = true;
        if (done < last || total != 4000) ordered = false;
        last = done;
        inside.fetch_sub(1);
      },
      4000);
  ParallelJobs jobs(4000, 4, nullptr, "");
  CHECK(jobs.run<char>([&](size_t, char&) -> Status {
              progress.add(1);
              return {};
            }).ok());
  CHECK(!overlapped);
  CHECK(ordered);
  CHECK(last == 4000);
}

TEST_CASE("parallel_ranges covers [0, n) once, in whole grains") {
  std::vector<std::atomic<int>> hit(1003);
  std::set<uint64_t> starts;
  std::mutex mu;
  parallel_ranges(hit.size(), 10, 4, [&](uint64_t b, uint64_t e) {
    {
      std::lock_guard lock(mu);
      starts.insert(b);
    }
    for (uint64_t i = b; i < e; ++i) hit[i]++;
  });
  for (auto& h : hit) CHECK(h.load() == 1);
  for (uint64_t s : starts) CHECK(s % 10 == 0);
  bool called = false;
  parallel_ranges(0, 10, 4, [&](uint64_t, uint64_t) { called = true; });
  CHECK(!called);
}

TEST_CASE("file layer: pread_upto tells the end of the file apart; the map holds the bytes") {
  mstest::TempDir tmp;
  const auto path = tmp / "f.bin";
  mstest::write_file(path.string(), "0123456789");
  auto fd = file_io::open_read(path);
  REQUIRE(fd.ok());
  std::vector<uint8_t> buf(8);
  auto got = file_io::pread_upto(fd->get(), buf, 6, "f");
  REQUIRE(got.ok());
  CHECK(*got == 4);
  Status full = file_io::pread_full(fd->get(), buf, 6, "f");
  REQUIRE(!full.ok());
  CHECK(full.error().code == ErrorCode::format);

  auto map = file_io::MappedFile::open(path);
  REQUIRE(map.ok());
  REQUIRE(map->size() == 10);
  CHECK(std::string(reinterpret_cast<const char*>(map->data()), 10) == "0123456789");
  file_io::MappedFile moved = std::move(*map);
  CHECK(moved.size() == 10);
  CHECK(map->data() == nullptr);

  mstest::write_file((tmp / "empty").string(), "");
  auto empty = file_io::MappedFile::open(tmp / "empty");
  REQUIRE(empty.ok());
  CHECK(empty->size() == 0);
  CHECK(!file_io::MappedFile::open(tmp / "missing").ok());
}

TEST_CASE("utf8: strict and lenient views of one decode") {
  auto at = [](std::string_view s) { return utf8::decode_at(s, 0); };
  CHECK(at("a").valid);
  CHECK(at("\xC3\xA9").valid);                // é
  CHECK(at("\xF0\x9F\x98\x80").valid);        // U+1F600
  CHECK(!at("\xC0\xAF").valid);               // overlong '/'
  CHECK(at("\xC0\xAF").complete);             // ...which the tokenizer still decodes
  CHECK(at("\xC0\xAF").cp == '/');
  CHECK(!at("\xED\xA0\x80").valid);           // surrogate
  CHECK(!at("\xF4\x90\x80\x80").valid);       // above U+10FFFF
  CHECK(!at("\xE2\x82").complete);            // cut short
  CHECK(!at("\x80").complete);                // stray continuation byte
  CHECK(utf8::sequence_length(0xF0) == 4);
  std::string out;
  utf8::append(out, 0x1F600);
  CHECK(out == "\xF0\x9F\x98\x80");
}
