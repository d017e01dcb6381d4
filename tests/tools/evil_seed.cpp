// A hostile seeder for the swarm tests: serves the files under SAVE_PATH for TORRENT while
// claiming to have every piece without ever hashing them (no seed_mode, whose first-upload hash
// check would catch the corruption). Point it at a copy of a release with flipped bytes.
//
//   evil_seed TORRENT SAVE_PATH [PEER_HOST:PORT...]
// Prints {"event":"listening","port":N} on stdout, serves until SIGTERM/SIGINT.
#include <libtorrent/alert_types.hpp>
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_handle.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

namespace lt = libtorrent;

static std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: evil_seed TORRENT SAVE_PATH [HOST:PORT...]\n");
    return 2;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  lt::settings_pack sp;
  sp.set_str(lt::settings_pack::listen_interfaces, "127.0.0.1:0");
  sp.set_bool(lt::settings_pack::enable_dht, false);
  sp.set_bool(lt::settings_pack::enable_lsd, false);
  sp.set_bool(lt::settings_pack::enable_upnp, false);
  sp.set_bool(lt::settings_pack::enable_natpmp, false);
  sp.set_bool(lt::settings_pack::enable_outgoing_utp, false);
  sp.set_bool(lt::settings_pack::enable_incoming_utp, false);
  sp.set_bool(lt::settings_pack::allow_multiple_connections_per_ip, true);
  sp.set_int(lt::settings_pack::alert_mask, lt::alert_category::status | lt::alert_category::error);
  lt::session ses(lt::session_params{sp});

  lt::add_torrent_params atp;
  try {
    atp = lt::load_torrent_file(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "evil_seed: %s: %s\n", argv[1], e.what());
    return 1;
  }
  atp.save_path = argv[2];
  atp.have_pieces.resize(atp.ti->num_pieces(), true);
  atp.flags |= lt::torrent_flags::no_verify_files;
  atp.flags &= ~(lt::torrent_flags::paused | lt::torrent_flags::auto_managed);
  lt::torrent_handle h = ses.add_torrent(atp);

  for (int i = 0; i < 100 && ses.listen_port() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::printf("{\"event\":\"listening\",\"port\":%d}\n", ses.listen_port());
  std::fflush(stdout);
  for (int i = 3; i < argc; ++i) {
    std::string spec = argv[i];
    auto colon = spec.rfind(':');
    h.connect_peer({lt::make_address(spec.substr(0, colon)),
                    static_cast<unsigned short>(std::stoi(spec.substr(colon + 1)))});
  }
  while (!g_stop) {
    std::vector<lt::alert*> alerts;
    ses.wait_for_alert(std::chrono::milliseconds(200));
    ses.pop_alerts(&alerts);
    for (auto* a : alerts) std::fprintf(stderr, "%s\n", a->message().c_str());
  }
  return 0;
}
