// Example: sign a model directory as a release with a fresh key, then verify it offline.
//   pack_and_verify MODEL_DIR NAME VERSION
// Prints the magnet link and "verified N files, M chunks"; exit 0 on success.
#include <modelswarm/release.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL_DIR NAME VERSION\n", argv[0]);
    return 2;
  }
  modelswarm::KeyPair keys = modelswarm::generate_key_pair();

  modelswarm::PackOptions pack;
  pack.name = argv[2];
  pack.version = std::strtoull(argv[3], nullptr, 10);
  pack.key = &keys.secret_key;
  auto packed = modelswarm::pack_release(argv[1], pack);
  if (!packed) {
    std::fprintf(stderr, "pack: %s\n", packed.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", packed->magnet.c_str());

  modelswarm::VerifyOptions verify;
  verify.trust.trusted_keys.push_back(keys.public_key);
  verify.record = false;
  auto report = modelswarm::verify_release(packed->release_dir, verify);
  if (!report) {
    std::fprintf(stderr, "verify: %s\n", report.error().message.c_str());
    return 1;
  }
  if (!report->ok()) {
    for (const auto& p : report->content.problems) std::fprintf(stderr, "%s\n", p.message.c_str());
    return 1;
  }
  std::printf("verified %llu files, %llu chunks\n",
              static_cast<unsigned long long>(report->content.files_checked),
              static_cast<unsigned long long>(report->content.chunks_checked));
  return 0;
}
