// `modelswarm inspect`: the real CLI on generated models (GGUF, sharded safetensors) and on
// broken input, in text and --json form.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "format_bytes.hpp"
#include "modelswarm/model_info.hpp"
#include "process.hpp"
#include "tempdir.hpp"

using mstest::run_cli;
using json = nlohmann::json;

namespace {

json generate(const mstest::TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), std::string(MODELSWARM_TEST_TOOLS_DIR) + "/make_test_model");
  auto r = mstest::run(args, std::chrono::seconds(120));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("inspect a Q4_0 GGUF: text output") {
  mstest::TempDir dir;
  auto path = (dir / "m.gguf").string();
  generate(dir, {"--gguf", path, "--type", "Q4_0", "--output-type", "Q6_K", "--vocab", "320",
                 "--dim", "256", "--ffn", "256", "--layers", "2"});
  auto r = run_cli({"inspect", path});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("GGUF v3") != std::string::npos);
  CHECK(r.out.find("architecture:  llama") != std::string::npos);
  CHECK(r.out.find("block_count") != std::string::npos);
  CHECK(r.out.find("tokenizer:     llama, 320 tokens") != std::string::npos);
  CHECK(r.out.find("Q6_K") != std::string::npos);
  CHECK(r.out.find("blk.1.ffn_down.weight") != std::string::npos);
  auto quiet = run_cli({"inspect", path, "--no-tensors"});
  CHECK(quiet.out.find("blk.1.ffn_down.weight") == std::string::npos);
  auto all = run_cli({"inspect", path, "--metadata"});
  CHECK(all.out.find("tokenizer.ggml.scores") != std::string::npos);
}

TEST_CASE("inspect --json matches the library's reading of the file") {
  mstest::TempDir dir;
  auto path = (dir / "m.gguf").string();
  json summary = generate(dir, {"--gguf", path, "--type", "Q8_0", "--vocab", "300"});
  for (auto args : {std::vector<std::string>{"inspect", path, "--json"},
                    std::vector<std::string>{"--json", "inspect", path}}) {
    auto r = run_cli(args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    json doc = json::parse(r.out);
    auto info = modelswarm::read_model_info(path);
    REQUIRE(info.ok());
    CHECK(doc["format"] == "gguf");
    CHECK(doc["gguf_version"] == 3);
    CHECK(doc["architecture"] == "llama");
    CHECK(doc["parameters"] == summary["parameters"]);
    CHECK(doc["shape_order"] == "innermost_first");
    CHECK(doc["hyperparameters"]["embedding_length"] == 64);
    CHECK(doc["hyperparameters"]["attention.layer_norm_rms_epsilon"] == 1e-5);
    CHECK(doc["metadata"]["tokenizer.ggml.tokens"]["count"] == 300);
    REQUIRE(doc["tensors"].size() == info->tensors.size());
    for (size_t i = 0; i < info->tensors.size(); ++i) {
      CHECK(doc["tensors"][i]["name"] == info->tensors[i].name);
      CHECK(doc["tensors"][i]["offset"] == info->tensors[i].offset);
      CHECK(doc["tensors"][i]["size"] == info->tensors[i].size);
      CHECK(doc["tensors"][i]["shape"] == json(info->tensors[i].shape));
    }
    double share = 0;
    uint64_t bytes = 0;
    for (const auto& t : doc["types"]) share += t["share"].get<double>(), bytes += t["bytes"].get<uint64_t>();
    CHECK(share == doctest::Approx(1.0));
    CHECK(bytes == info->tensor_bytes());
  }
}

TEST_CASE("inspect a sharded safetensors directory as one model") {
  mstest::TempDir dir;
  auto hf = (dir / "hf").string();
  json summary = generate(dir, {"--hf-dir", hf, "--shards", "3", "--safetensors-dtype", "BF16"});
  auto r = run_cli({"inspect", hf, "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json doc = json::parse(r.out);
  CHECK(doc["format"] == "safetensors");
  CHECK(doc["files"].size() == 3);
  CHECK(doc["parameters"] == summary["parameters"]);
  CHECK(doc["architecture"] == "llama");
  CHECK(doc["hyperparameters"]["hidden_size"] == 64);
  CHECK(doc["types"].size() == 1);
  CHECK(doc["types"][0]["dtype"] == "BF16");
  auto text = run_cli({"inspect", hf});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("safetensors, 3 files") != std::string::npos);
  CHECK(text.out.find("model-00002-of-00003.safetensors") != std::string::npos);
}

TEST_CASE("inspect: missing files, malformed files and empty directories") {
  mstest::TempDir dir;
  auto missing = run_cli({"inspect", (dir / "none.gguf").string()});
  CHECK(missing.exit_code == 6);
  CHECK(missing.err.find("none.gguf") != std::string::npos);

  auto path = (dir / "m.gguf").string();
  generate(dir, {"--gguf", path, "--vocab", "300"});
  std::string bytes = mstest::read_file(path);
  mstest::write_bytes((dir / "cut.gguf").string(), bytes.substr(0, bytes.size() / 2));
  auto cut = run_cli({"inspect", (dir / "cut.gguf").string(), "--json"});
  CHECK(cut.exit_code == 7);
  json err = json::parse(cut.out);
  CHECK(err["error"]["code"] == "format");
  CHECK(err["exit_code"] == 7);
  CHECK(err["error"]["message"].get<std::string>().find("cut.gguf") != std::string::npos);

  mstest::write_bytes((dir / "text.safetensors").string(), "definitely not a model");
  CHECK(run_cli({"inspect", (dir / "text.safetensors").string()}).exit_code == 7);

  mstest::TempDir empty;
  auto e = run_cli({"inspect", empty.path().string()});
  CHECK(e.exit_code == 2);
  CHECK(e.err.find("no .gguf or .safetensors") != std::string::npos);
  CHECK(run_cli({"inspect"}).exit_code == 2);
}
