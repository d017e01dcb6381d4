// Shared by the run, bench and eval commands: where the model file is (a file, a directory, or
// a release directory that is verified first), token-id lists, and kernel selection.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "command.hpp"
#include "modelswarm/error.hpp"
#include "modelswarm/hf_model.hpp"

namespace modelswarm::cli {

// A .gguf file as is; a directory holding exactly one .gguf file, or else an HF checkpoint
// (config.json + *.safetensors), returned as the directory. A release directory
// (.modelswarm/manifest.json) is verified first, unless it was verified before and no file
// changed since (size and modification time of every file, and the manifest's bytes).
// The release is checked against the --trust keys (`trust`) and the trust store.
Result<std::filesystem::path> resolve_model(const std::string& arg, const std::vector<std::string>& trust,
                                            const Globals& g);
// The --trust option of run, bench and eval.
void add_trust_option(CLI::App& app, std::vector<std::string>& trust);

// Options for loading an HF checkpoint directory: the tokenizer is required unless the prompt
// is given as token ids.
HfLoadOptions hf_load_options(bool prompt_is_token_ids, unsigned threads);

// "1,2,3" or "1 2 3".
Result<std::vector<int32_t>> parse_token_ids(const std::string& text);

// "auto", "scalar", "avx2", "avx512".
Status select_kernel(const std::string& name);

}  // namespace modelswarm::cli
