#!/usr/bin/python3
"""A stock libtorrent 2.0.8 peer (Debian's python3-libtorrent), the baseline of bench_netlab.sh.

libtorrent's default settings, except what network safety needs: DHT, UPnP and NAT-PMP off,
local service discovery off unless --lsd, listening only where told. No modelswarm logic: no
manifest, no serve-once, no TCP_NODELAY, no tuned buffers.

  lt_stock.py seed TORRENT SAVE_PATH --listen IP:PORT [--lsd]
      checks the files (as a plain client does), prints {"event":"seeding"}, then seeds until
      SIGTERM/SIGINT and prints {"event":"stopped","uploaded":N}.
  lt_stock.py fetch TORRENT OUT_DIR --listen IP:PORT [--peer IP:PORT]... [--lsd] [--linger S]
      downloads, prints {"event":"done","seconds":T,"downloaded":N}, then keeps seeding for
      --linger seconds (so the other leechers can still get pieces from it); exit 0.
"""
import argparse
import json
import signal
import sys
import time

import libtorrent as lt


def session(listen, lsd):
    s = lt.session({
        "listen_interfaces": listen,
        "enable_dht": False,
        "enable_lsd": lsd,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.error_notification,
    })
    return s


def emit(**kw):
    print(json.dumps(kw), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["seed", "fetch"])
    ap.add_argument("torrent")
    ap.add_argument("path")
    ap.add_argument("--listen", required=True)
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--lsd", action="store_true")
    ap.add_argument("--linger", type=float, default=0)
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s = session(a.listen, a.lsd)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(a.torrent)
    atp.save_path = a.path
    h = s.add_torrent(atp)
    t0 = time.monotonic()

    def connect():
        for p in a.peer:
            host, port = p.rsplit(":", 1)
            h.connect_peer((host, int(port)))

    if a.mode == "seed":
        while not stop and not h.status().is_seeding:
            time.sleep(0.05)
        emit(event="seeding", check_seconds=round(time.monotonic() - t0, 2))
        while not stop:
            time.sleep(0.2)
        emit(event="stopped", uploaded=h.status().total_payload_upload)
        return 0

    connect()
    next_connect = time.monotonic() + 3
    while not stop and not h.status().is_seeding:
        if time.monotonic() - t0 > a.timeout:
            emit(event="error", message="timed out")
            return 5
        if time.monotonic() > next_connect and h.status().num_peers < len(a.peer):
            connect()
            next_connect = time.monotonic() + 3
        time.sleep(0.02)
    st = h.status()
    emit(event="done", seconds=round(time.monotonic() - t0, 3), downloaded=st.total_payload_download)
    end = time.monotonic() + a.linger
    while not stop and time.monotonic() < end:
        time.sleep(0.2)
    emit(event="stopped", uploaded=h.status().total_payload_upload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
