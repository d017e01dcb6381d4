// Resume data on disk: libtorrent's bencoded resume format, written atomically so that a crash
// (kill -9 included) leaves either the previous file or the new one.
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/write_resume_data.hpp>

#include <fstream>
#include <iterator>

#include "modelswarm/paths.hpp"
#include "session_impl.hpp"

namespace modelswarm::swarm {

Status save_resume_file(const std::filesystem::path& path, const lt::add_torrent_params& params) {
  std::vector<char> buf;
  try {
    buf = lt::write_resume_data_buf(params);
  } catch (const std::exception& e) {
    return Error::internal(path.string() + ": cannot encode resume data: " + e.what());
  }
  return write_file_atomic(path, std::string_view(buf.data(), buf.size()));
}

Result<lt::add_torrent_params> load_resume_file(const std::filesystem::path& path) {
  MS_ASSIGN_OR_RETURN(std::string data, read_small_file(path, 512u << 20));
  lt::error_code ec;
  lt::add_torrent_params atp = lt::read_resume_data({data.data(), static_cast<int>(data.size())}, ec);
  if (ec) return Error::format(path.string() + ": bad resume data: " + ec.message());
  return atp;
}

void save_all_resume(Session::Impl& s, const std::vector<lt::torrent_handle>& handles,
                     const std::function<std::filesystem::path(const lt::torrent_handle&)>& path_for,
                     lt::resume_data_flags_t flags, const std::function<void(lt::alert*)>& other) {
  int pending = 0;
  for (const auto& h : handles) {
    if (!h.is_valid()) continue;
    h.save_resume_data(flags);
    ++pending;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (pending > 0 && std::chrono::steady_clock::now() < deadline) {
    for (lt::alert* a : s.pop_alerts(std::chrono::milliseconds(200))) {
      if (auto* rd = lt::alert_cast<lt::save_resume_data_alert>(a)) {
        --pending;
        Status st = save_resume_file(path_for(rd->handle), rd->params);
        if (!st.ok()) {
          Event e;
          e.kind = Event::Kind::warning;
          e.message = st.error().message;
          s.emit(e);
        }
      } else if (lt::alert_cast<lt::save_resume_data_failed_alert>(a)) {
        --pending;
      } else if (other) {
        other(a);
      }
    }
  }
}

}  // namespace modelswarm::swarm
