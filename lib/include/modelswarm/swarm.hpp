// The swarm module: a BitTorrent (libtorrent 2.0) session that seeds signed releases and fetches
// them, checking the signed manifest before any model data is downloaded.
//
// Nothing here prints: progress, peers, bans and errors are reported as Events through a
// callback that the CLI renders (a TTY status line or JSON lines). libtorrent types never appear
// in this header.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "modelswarm/channel.hpp"
#include "modelswarm/error.hpp"
#include "modelswarm/file_stamp.hpp"

namespace modelswarm::swarm {

// prefer_tcp: connect over TCP, accept TCP and uTP. libtorrent 2.0.8's uTP collapses on
// loopback and under loss (DESIGN.md, scripts/bench_netlab.sh), so nothing of ours starts one.
enum class Transport { prefer_tcp, tcp_and_utp, tcp, utp };
// Peer-protocol encryption: enabled (offer and accept both), forced (refuse plaintext), disabled.
enum class Encryption { enabled, forced, disabled };
// Which libtorrent disk back-end. posix (pread/pwrite) does every read, write and hash on the
// network thread; mmap has its own I/O and hashing threads, and measured 1.5x faster on a
// 1 GiB loopback fetch (scripts/bench_swarm.sh), so `automatic` means mmap.
enum class DiskBackend { automatic, posix, mmap };
// How a seeder spends its upload slots (libtorrent's seed_choking_algorithm).
enum class SeedChoking { round_robin, fastest_upload, anti_leech };

// One typed bag of session settings. Start from internet_profile() or lan_profile().
struct SessionSettings {
  // libtorrent listen_interfaces syntax: "IP:PORT" items separated by commas; port 0 = any free
  // port (read the bound port from Session::listen_port() or the `listening` event).
  std::string listen = "0.0.0.0:6881,[::]:6881";
  std::int64_t upload_rate_limit = 0;    // bytes/s, 0 = unlimited
  std::int64_t download_rate_limit = 0;  // bytes/s, 0 = unlimited
  // libtorrent exempts LAN and loopback peers from rate limits; true applies them to all peers.
  bool limit_local_peers = false;
  int connections_limit = 200;           // whole session
  int max_peers_per_torrent = 0;         // 0 = libtorrent's default
  int unchoke_slots = 8;                 // -1 = unlimited
  std::vector<std::string> trackers;     // announce URLs added to every torrent
  bool dht = true;
  // "HOST:PORT" DHT nodes to join through, in place of libtorrent's public routers: a private
  // DHT for a cluster or a lab. Each is also pinged into the routing table, so that a handful
  // of nodes that only know this one find each other.
  std::vector<std::string> dht_bootstrap;
  // A private DHT: accept several nodes per IP and private or loopback addresses, and do not
  // require node ids to match addresses (BEP 42). Off on the internet, where those rules keep
  // one host from filling a routing table.
  bool dht_private = false;
  bool lsd = true;                       // local service discovery (multicast)
  std::vector<std::string> peers;        // "HOST:PORT", connected explicitly and re-tried
  Encryption encryption = Encryption::enabled;
  Transport transport = Transport::prefer_tcp;
  DiskBackend disk = DiskBackend::automatic;
  SeedChoking seed_choking = SeedChoking::round_robin;
  bool super_seeding = false;            // seeders reveal pieces one by one (BEP 16)
  // Seeders serve each piece to one peer, and while it is being sent and a few seconds after
  // refuse it (BEP 6 REJECT) to others, who then get it from that peer: a capped seeder uploads
  // about one copy of the release instead of two. Peers without the fast extension are served
  // as usual; not used with super_seeding, which rations pieces its own way.
  bool serve_once = true;
  // Big socket/send buffers and request queues, short reconnect times: for fast links.
  bool fast_links = false;
  double status_interval = 1.0;          // seconds between progress events
  // "NAME=VALUE" libtorrent settings (settings_pack names), applied after everything above: for
  // tuning a deployment or an experiment without a rebuild. Session::open refuses an unknown
  // name or a value of the wrong type.
  std::vector<std::string> libtorrent_settings;
};

// Defaults for the internet: connect over TCP (uTP accepted), DHT, LSD, encryption enabled,
// limits as libtorrent.
SessionSettings internet_profile();
// For a fast LAN/cluster or loopback: TCP only (uTP collapses on loopback), several connections
// per IP allowed (many peers on one host), big send buffers and request queues, reconnect after
// 1 s, mmap disk I/O, DHT off (LSD stays on: it is how LAN peers meet without a tracker).
SessionSettings lan_profile();

// Totals and rates for one torrent, sampled at each status tick.
struct Progress {
  std::string state;               // "metadata", "checking", "manifest", "downloading",
                                   // "verifying", "seeding"
  std::int64_t total_wanted = 0;   // bytes selected for download
  std::int64_t total_done = 0;     // of those, verified and on disk
  std::int64_t payload_downloaded = 0;  // payload bytes received this session (incl. redundant)
  std::int64_t payload_uploaded = 0;
  std::int64_t download_rate = 0;  // bytes/s
  std::int64_t upload_rate = 0;
  int peers = 0;
  int seeds = 0;
  std::int64_t eta_seconds = -1;   // -1 when unknown
  std::int64_t reused = 0;         // bytes copied from local releases instead of downloaded
  // Where peers could come from, for a fetch that is waiting for them (describe_waiting).
  int peers_known = 0;             // in the peer list, connected or not
  int trackers = 0;
  int trackers_working = 0;        // answered their last announce
  std::string tracker_error;       // why one that did not answer failed, if known
  int dht_nodes = -1;              // DHT routing table size; -1 when the DHT is off
  bool lsd = false;                // local service discovery is on
};

// One line on what a fetch is waiting for: "0 peers connected (2 known); trackers: 1, none
// answering (connection refused); DHT: 0 nodes; local discovery on".
std::string describe_waiting(const Progress& p);

// What fetch took from releases already on this machine (store.hpp), before downloading.
struct ReuseStats {
  std::int64_t bytes_reused = 0;
  std::int64_t bytes_reflinked = 0;     // of those, shared extents rather than copies
  std::int64_t chunks_reused = 0;
  std::int64_t chunks_rejected = 0;     // a local copy did not hash right: downloaded instead
  std::int64_t expected_download = 0;   // bytes in pieces not complete after reuse
};

// What this process exchanged with one remote peer (over all its connections).
struct PeerStats {
  std::string endpoint;   // "IP:PORT" of the first connection seen
  std::string peer_id;    // hex of the 20-byte peer id (modelswarm: see Session::peer_id())
  std::string client;
  std::int64_t downloaded = 0;  // payload bytes received from it
  std::int64_t uploaded = 0;    // payload bytes sent to it
};

struct Event {
  enum class Kind {
    listening,          // port, peer_id
    added,              // torrent added (name, info_hash, dir)
    metadata,           // magnet: metadata received from peers
    manifest_verified,  // signature and torrent/manifest match checked; message = publisher key
    reused,             // local chunks copied into place (reuse; message: summary and warnings)
    progress,           // progress
    peer_banned,        // endpoint in message
    hash_failed,        // a piece failed its hash check (message: piece index)
    peer,               // a peer connected or disconnected (endpoint; message: "connected" or
                        // "disconnected: REASON")
    piece,              // a downloaded piece passed its hash check (piece)
    warning,            // something non-fatal (tracker error, untrusted-but-seeded key, ...)
    done,               // verified release in place (dir), peers = per-peer totals
    error,              // error set; the operation is stopping
    stopped,            // session shut down cleanly (resume data saved)
    channel,            // a channel item was found or put on the DHT (name; message says which)
  };
  Kind kind = Kind::progress;
  std::string name;       // release (torrent) name, empty for session-wide events
  std::string info_hash;  // hex (v2 when present, else v1)
  std::string message;
  std::string dir;        // release directory (added/done)
  int port = 0;           // listening
  std::string peer_id;    // listening
  std::string endpoint;   // peer
  int piece = -1;         // piece
  Progress progress;
  ReuseStats reuse;       // reused
  std::vector<PeerStats> peers;
  std::optional<Error> error;
};
const char* event_kind_name(Event::Kind kind);

using EventCallback = std::function<void(const Event&)>;

// A libtorrent session. Opening binds the listen sockets; destruction saves nothing (the
// operations below save resume data themselves) and stops the session.
class Session {
 public:
  // Fails (network) when no listen interface could be bound.
  static Result<std::unique_ptr<Session>> open(const SessionSettings& settings,
                                               EventCallback on_event);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int listen_port() const;
  // Hex of this process's 20-byte peer id (the same for every torrent of the session), so
  // tests and tools can tell which remote peer is which in PeerStats.
  const std::string& peer_id() const;
  const SessionSettings& settings() const;

  struct Impl;  // opaque outside lib/src/swarm

 private:
  friend struct SessionAccess;  // session_impl.hpp: how fetch and seed reach the libtorrent session
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- seed ----

struct SeedOptions {
  std::vector<std::filesystem::path> release_dirs;
  // Publisher keys (minisign "RW..." or key files) accepted for the manifests. When empty, a
  // release whose publisher is in the trust store is checked against it; otherwise its manifest
  // is checked against the publisher key it names, with a `warning` event. Seeding cannot harm
  // the seeder, and every fetcher checks the signature with its own trusted keys, so a
  // publisher can seed a freshly packed release without trusting their own key first.
  std::vector<std::string> trusted_keys;
  // Where upload totals are kept between runs (<info-hash>.resume); empty = not kept.
  std::filesystem::path resume_dir;
  // With the DHT on, the channel of each release (its publisher key, its name) is looked up and
  // the newest item seen (there or in channels.json) is put again, verbatim, this often: DHT
  // nodes forget items after about two hours, and a seeder needs no secret key to re-put one.
  // 0: never.
  std::chrono::seconds channel_refresh{3600};
};

// Seeds every release until `stop` becomes true, then saves resume data and returns.
// Before adding a release: the signature is checked, the torrent must match the manifest and
// every file must have its manifest size; data is not read (libtorrent's seed_mode hashes each
// piece before its first upload).
Status seed(Session& session, const SeedOptions& options, const std::atomic<bool>& stop);
// seed()'s checks of every release, without a session: a caller may run them before it opens
// one, so that a bad directory is reported before anything listens.
Status check_seed_options(const SeedOptions& options);

// How the .torrent of a release URL (http:// or https://) is downloaded. Proxies are taken from
// the environment as curl(1) takes them: http_proxy (lower case only: curl ignores HTTP_PROXY),
// HTTPS_PROXY, ALL_PROXY and NO_PROXY. Redirects are followed (http and https only).
struct HttpOptions {
  // PEM file of CA certificates (a private CA) that https servers may also chain to, besides
  // the system store; empty = the system store only. Also trusted for https web seeds (fetch:
  // added to the session's TLS context for the rest of its life).
  std::filesystem::path ca_file;
  std::chrono::seconds connect_timeout{20};
  // Give up when under 1 byte/s has arrived over this long (libcurl averages over a few
  // seconds, so a stall that follows data is noticed a few seconds later); there is no total
  // timeout, a slow but moving transfer is never cut.
  std::chrono::seconds stall_timeout{30};
  int max_redirects = 5;
};

// The info hash (hex; v2 when the source has one, else v1) that `source` (as
// FetchOptions::source) names, without contacting any peer; a release URL's .torrent is
// downloaded (`stop` interrupts that).
Result<std::string> source_info_hash(const std::string& source, const HttpOptions& http = {},
                                     const std::atomic<bool>* stop = nullptr);

// ---- fetch ----

struct FetchOptions {
  // "magnet:?...", a .torrent file path, the http(s):// URL of a release directory (its
  // .modelswarm/release.torrent is downloaded and the server becomes a web seed), or a channel,
  // KEY/NAME (channel.hpp): resolved on the DHT, its key trusted for this fetch.
  std::string source;
  std::vector<std::string> trusted_keys;  // required unless the trust store has the publisher
  std::filesystem::path out_dir;    // the release lands in out_dir/<name>
  bool keep_seeding = false;        // after success, seed until `stop`
  std::vector<std::string> web_seeds;  // extra BEP 19 URLs (need the .torrent, not a magnet)
  HttpOptions http;                 // for a release URL source and https web seeds
  // Copy chunks that registered releases hold before downloading (store.hpp).
  bool reuse = true;
  // Hash every chunk against the manifest's SHA-256s as well. Not needed for security: each
  // file's v2 pieces root is signed in the manifest and checked against the torrent before any
  // data is requested, and libtorrent checks every piece against those roots as it arrives, so
  // every downloaded byte is already proven against the publisher's signature by one SHA-256
  // pass. This adds a second pass (a check of the publisher's own chunk hashes).
  bool paranoid = false;
  // Give up (network error) after this long with no byte received and no step taken while
  // waiting on peers (metadata, manifest, download); resume data is kept. 0 waits for ever.
  std::chrono::seconds stall_timeout{300};
  // The channel item this fetch follows (resolve_channel): the manifest must then be signed by
  // its key and carry its name and its seq as version, else a trust error before any model
  // data. fetch() sets it itself for a KEY/NAME source.
  std::optional<ChannelItem> channel;
};

// The checks a fetch can make before it contacts anyone: the output directory is set, every
// --trust key loads, some key is trusted (--trust or the trust store: trust error otherwise),
// and a local .torrent or a magnet link describes a v2 torrent (unsupported for v1-only).
// fetch() makes them too; a caller may run them before it opens a session.
Status check_fetch_options(const FetchOptions& options);

struct FetchResult {
  std::filesystem::path release_dir;
  std::string name;
  std::int64_t version = 0;
  std::string info_hash;
  std::int64_t payload_downloaded = 0;  // this run
  std::int64_t bytes_reused = 0;        // copied from local releases this run
  std::vector<PeerStats> peers;
  // The placed files' stamps (file_stamp.hpp), also kept as the registry entry's seed record;
  // pass them to register_release_dir when the release is moved elsewhere.
  std::vector<FileStamp> stamps;
};

// Fetches one release into options.out_dir/<name>:
//   metadata (magnet) -> the two .modelswarm files only -> signature and torrent/manifest match
//   -> chunks already on this machine copied into the staging files, libtorrent rechecks them
//   -> the remaining model data, each piece checked by libtorrent against the signed v2 roots
//   -> the directory check (no missing or extra files, sizes, no links; every chunk SHA-256
//   too with `paranoid`) -> one rename of the staging directory into place -> registry entry
//   with the seed record (see registry.hpp).
// Pieces libtorrent found on disk before it knew the torrent's piece layers (a magnet link
// resumed, or with reused chunks) are not yet proven by its merkle check: their chunks are
// hashed against the manifest as with `paranoid`.
// Staging: out_dir/.modelswarm-partial/<info-hash>/<name>/ with resume data beside it in
// out_dir/.modelswarm-partial/<info-hash>.resume (saved every few seconds), so a killed fetch
// resumes without downloading verified pieces again. `stop` interrupts (ErrorCode::interrupted)
// after saving resume data. Disk full: ErrorCode::io, staging kept for a later resume.
Result<FetchResult> fetch(Session& session, const FetchOptions& options,
                          const std::atomic<bool>& stop);

// ---- channels (channel.hpp) ----

struct ChannelLookupOptions {
  // How long to wait for the DHT to know a node (bootstrap); 0 waits for ever.
  std::chrono::seconds dht_wait{60};
  // How long a lookup or a put may take once it has started.
  std::chrono::seconds timeout{60};
};

// The newest valid item of `channel` that the DHT holds, or nullopt when none was found within
// options.timeout (a lookup that finds nothing is repeated: a node that has just joined may not
// yet reach the nodes that hold the item).
// Items whose signature, encoding or version do not check out are skipped (each with a
// `warning` event). Network error: the DHT is off in this session, or no node was reached within
// dht_wait. Nothing is recorded: the caller decides (record_channel_item).
Result<std::optional<ChannelItem>> resolve_channel(Session& session, const ChannelRef& channel,
                                                   const ChannelLookupOptions& options,
                                                   const std::atomic<bool>& stop);

// Puts `item` verbatim (its own seq and signature) and returns how many DHT nodes stored it.
// Network error: the DHT is off, or no node was reached within dht_wait.
Result<int> put_channel_item(Session& session, const ChannelItem& item,
                             const ChannelLookupOptions& options, const std::atomic<bool>& stop);

// Runs the session as a DHT node only, until `stop`: a bootstrap node for a private DHT, or one
// more node to hold channel items. `on_nodes` gets the routing table's size when it changes.
// Invalid argument when the session's DHT is off.
Status run_dht_node(Session& session, const std::function<void(int nodes)>& on_nodes,
                    const std::atomic<bool>& stop);

// The check a channel fetch makes on what it resolved: seq at least channel_floor() (a lower
// one is a rollback: trust error).
Status check_channel_floor(const ChannelItem& item);

}  // namespace modelswarm::swarm
