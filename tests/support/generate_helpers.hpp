// Running a loaded model in tests.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "modelswarm/infer.hpp"
#include "modelswarm/sampler.hpp"

namespace mstest {

// The `n` tokens greedy decoding (temperature 0, not stopping at end-of-sequence) produces
// after `prompt`, on a 64-token context and 2 threads.
inline std::vector<int32_t> greedy(const std::shared_ptr<const modelswarm::Model>& m,
                                   const std::vector<int32_t>& prompt, int n) {
  auto ctx = modelswarm::Context::create(m, modelswarm::ContextOptions{64, 2});
  REQUIRE(ctx.ok());
  modelswarm::GenerateOptions o;
  o.n_predict = n;
  o.sampling.temperature = 0;
  o.stop_at_eos = false;
  std::vector<int32_t> out;
  auto st = modelswarm::generate(**ctx, prompt, o, [&](int32_t id, std::string_view) {
    out.push_back(id);
    return true;
  });
  REQUIRE(st.ok());
  CHECK(st->generated_tokens == static_cast<uint32_t>(n));
  return out;
}

}  // namespace mstest
