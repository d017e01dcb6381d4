#include "http_client.hpp"

#include <curl/curl.h>

#include <fstream>
#include <memory>

namespace modelswarm::swarm {

namespace {

// curl_global_init must run once before any other libcurl call and is not thread-safe in every
// libcurl build; a function-local static runs it exactly once whichever thread comes first.
// There is no curl_global_cleanup: another thread may still be in libcurl when the process ends.
CURLcode global_init() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  return rc;
}

struct Transfer {
  std::string body;
  std::size_t max_bytes = 0;
  bool too_large = false;
  const std::atomic<bool>* stop = nullptr;
};

// CURLOPT_MAXFILESIZE only sees a Content-Length; a chunked body is capped here.
size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * count;
  if (len > t->max_bytes - t->body.size()) {
    t->too_large = true;
    return 0;  // anything but `len` makes libcurl stop with CURLE_WRITE_ERROR
  }
  t->body.append(data, len);
  return len;
}

// Called at least once a second, also while connecting or stalled, so a signal is noticed.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->stop && t->stop->load() ? 1 : 0;
}

Error describe(CURLcode rc, CURL* c, const std::string& url, const char* detail_buf,
               const Transfer& t, const HttpOptions& o) {
  std::string where = url;
  char* effective = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective &&
      url != effective)
    where += " (redirected to " + std::string(effective) + ")";
  const std::string detail = *detail_buf ? detail_buf : curl_easy_strerror(rc);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  switch (rc) {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
      if (rc == CURLE_FILESIZE_EXCEEDED || t.too_large)
        return Error::format(where + ": response larger than " + std::to_string(t.max_bytes) + " bytes");
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      return Error::interrupted(where + ": interrupted");
    case CURLE_URL_MALFORMAT:
      return Error::invalid_argument(url + ": malformed URL");
    case CURLE_HTTP_RETURNED_ERROR:
      return Error::network(where + ": HTTP " + std::to_string(status));
    case CURLE_TOO_MANY_REDIRECTS:
      return Error::network(where + ": more than " + std::to_string(o.max_redirects) + " redirects");
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error::network(where + ": refused: only http:// and https:// URLs are followed");
    case CURLE_PEER_FAILED_VERIFICATION:
      return Error::network(where + ": TLS certificate verification failed (" +
                            (o.ca_file.empty() ? std::string("system CA store")
                                               : "system CA store and " + o.ca_file.string()) +
                            "): " + detail);
    case CURLE_SSL_CACERT_BADFILE:
      return Error::format(o.ca_file.string() + ": not a PEM file of CA certificates (" + detail + ")");
    case CURLE_SSL_CONNECT_ERROR:
      return Error::network(where + ": TLS handshake failed: " + detail);
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected_us = 0;
      curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected_us);
      if (connected_us == 0)
        return Error::network(where + ": no connection within " +
                              std::to_string(o.connect_timeout.count()) + " s (" + detail + ")");
      return Error::network(where + ": stalled: under 1 byte/s for " +
                            std::to_string(o.stall_timeout.count()) + " s");
    }
    default:
      break;
  }
  return Error::network(where + ": " + detail);
}

}  // namespace

Result<HttpResponse> http_get(const std::string& url, const HttpOptions& o, std::size_t max_bytes,
                              const std::atomic<bool>* stop) {
  if (CURLcode rc = global_init(); rc != CURLE_OK)
    return Error::internal(std::string("libcurl initialisation failed: ") + curl_easy_strerror(rc));
  // libcurl reports a missing CA file only as "error setting certificate file"; say which.
  if (!o.ca_file.empty() && !std::ifstream(o.ca_file))
    return Error::io(o.ca_file.string() + ": cannot read the CA certificate file");
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), &curl_easy_cleanup);
  if (!easy) return Error::internal("curl_easy_init failed");
  CURL* c = easy.get();

  Transfer t;
  t.max_bytes = max_bytes;
  t.stop = stop;
  char detail[CURL_ERROR_SIZE] = {};
  const std::string agent = "modelswarm/" MODELSWARM_VERSION;
  // Proxy variables are read from the environment by libcurl itself: no CURLOPT_PROXY or
  // CURLOPT_NOPROXY is set here, so that http_proxy/HTTPS_PROXY/NO_PROXY keep working.
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(o.max_redirects));
  // Signals for resolver timeouts are not safe in a threaded process (libtorrent's threads).
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count() * 1000));
  // No total timeout: a large body on a slow link is fine as long as bytes keep arriving.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.stall_timeout.count()));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_bytes));
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  // CAINFO adds to the system store: Debian's libcurl keeps its CAPATH (/etc/ssl/certs).
  if (!o.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_file.c_str());

  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return describe(rc, c, url, detail, t, o);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  char* effective = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
  HttpResponse r{std::move(t.body), effective ? effective : url};
  if (status != 200)
    return Error::network(url + (r.url != url ? " (redirected to " + r.url + ")" : "") + ": HTTP " +
                          std::to_string(status) + ", expected 200");
  return r;
}

}  // namespace modelswarm::swarm
