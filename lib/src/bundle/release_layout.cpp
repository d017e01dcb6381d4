#include "modelswarm/bundle.hpp"
#include "modelswarm/manifest.hpp"

namespace modelswarm {

BundleLayout bundle_layout(const Manifest& m) {
  BundleLayout layout;
  for (const ManifestFile& f : m.files) {
    BundleFile bf;
    bf.path = f.path;
    bf.size = f.size;
    for (const Chunk& c : f.chunks) {
      BundlePiece p;
      p.offset = c.offset;
      p.size = c.size;
      p.sha256 = c.sha256;
      p.float_width = c.dtype ? float_width_for_dtype(*c.dtype) : 0;
      bf.pieces.push_back(p);
    }
    layout.files.push_back(std::move(bf));
  }
  return layout;
}

}  // namespace modelswarm
