// Private: a seeder-side libtorrent plugin that avoids spending a capped upload on duplicates.
#pragma once

#include <libtorrent/extensions.hpp>
#include <libtorrent/torrent_handle.hpp>

#include <functional>
#include <memory>

namespace modelswarm::swarm {

namespace lt = libtorrent;

// Each piece is served to the first peer that asks for it (its owner); while the owner's requests
// for it are being served and for a few seconds after the last block went out, another peer
// asking for the same piece gets a REJECT (BEP 6) and fetches it from the owner instead. Then,
// or when the owner disconnects or its requests stall, the next peer to ask becomes the owner,
// so no peer can be starved.
// A rejected peer is also sent SUGGEST_PIECE (BEP 6) for a piece nobody has asked for yet, and so
// is a peer that takes a fresh piece: libtorrent's picker tries suggested pieces first, so the
// seeder's upload goes to pieces the swarm lacks rather than to requests it must refuse.
// `num_pieces`: the torrent's piece count.
std::function<std::shared_ptr<lt::torrent_plugin>(const lt::torrent_handle&, lt::client_data_t)>
serve_once_plugin(int num_pieces);

}  // namespace modelswarm::swarm
