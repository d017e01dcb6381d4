#!/usr/bin/env bash
# netlab: hosts with links of their own, in network namespaces on one machine (root only).
#
# A lab is a "switch" namespace PREFIX-sw holding a bridge (br0), plus one namespace per host,
# PREFIX-NAME, whose eth0 has 10.77.0.N/24 on that bridge. Every host has an uplink and a
# downlink rate of its own, and optionally one-way delay, jitter and loss:
#   - rates only: a veth pair (eth0 in the host, h-NAME on the bridge), shaped with htb on the
#     egress of both ends (eth0 = uplink, h-NAME = downlink);
#   - with delay, jitter or loss (this kernel has no netem): eth0 is a TAP in the host, t-NAME a
#     TAP on the bridge, and tests/tools/linkemu forwards frames between them in user space with
#     rate, delay, jitter and loss in each direction.
# Nothing routes outside the lab: the switch namespace has no uplink, hosts have only their
# subnet and a multicast route, and nothing is created in the root namespace (the veth pairs
# are made inside the lab's namespaces; linkemu lives in the root namespace but only holds the
# TAP descriptors). Everything is torn down on exit, Ctrl-C and failure.
#
# As a library (bash):
#   source scripts/netlab.sh
#   netlab_init PREFIX            # switch namespace + bridge; installs the teardown trap
#   netlab_add_host NAME UP DOWN [DELAY_MS [JITTER_MS [LOSS_PCT]]]
#                                 # UP/DOWN in tc units (50mbit, 1gbit; 0 = unlimited);
#                                 # DELAY/JITTER one-way per direction, LOSS per direction
#   netlab_ip NAME                # prints the host's address (10.77.0.N)
#   netlab_ns NAME                # prints the host's namespace name (PREFIX-NAME)
#   netlab_exec NAME CMD...       # runs CMD in the host (ip netns exec)
#   netlab_bg NAME LOG CMD...     # starts CMD in the host in the background (stdout+stderr to
#                                 # LOG); its pid is in NETLAB_LAST_PID and is stopped at teardown
#   netlab_hosts                  # prints the host names, one a line
#   netlab_pids                   # prints the pids of every process in the lab (linkemu too)
#   netlab_teardown [PREFIX]      # stops every process of the lab by pid, deletes the
#                                 # namespaces; idempotent
# The trap: netlab_init runs netlab_teardown on EXIT, INT and TERM, and then whatever EXIT/INT/TERM
# trap the caller had set before (INT and TERM then exit 130/143). A caller that sets its own trap
# *after* netlab_init replaces ours and must call netlab_teardown in it. NETLAB_NO_TRAP=1 skips
# the trap altogether.
#
# As a command:
#   bash scripts/netlab.sh up PREFIX SPEC...   # SPEC = NAME:UP:DOWN[:DELAY[:JITTER[:LOSS]]];
#                                             # prints "NAME IP" per host; the lab stays up
#                                             # (torn down if `up` fails)
#   bash scripts/netlab.sh down PREFIX
#   bash scripts/netlab.sh exec PREFIX HOST CMD...
#   bash scripts/netlab.sh ip PREFIX HOST
#   bash scripts/netlab.sh pids PREFIX
# PREFIX: letters, digits and '_' only, at most 20 (include $$ so parallel labs never collide).
# Host names: letters, digits, '_' and '-', at most 12. State lives in $NETLAB_RUN/PREFIX
# (default /run/netlab). linkemu is $NETLAB_LINKEMU, else build/tests/linkemu, else compiled
# from tests/tools/linkemu.cpp into the state directory with g++.
# Knobs (environment):
#   NETLAB_LINK      auto (default: linkemu only when there is delay, jitter or loss), veth, emu
#   NETLAB_QUEUE_MS  drop-tail queue of every shaped direction: 20 ms at the link rate (at
#                    least 256 KiB)
#   NETLAB_OFFLOAD=0 TSO/GSO/GRO off on the veth pairs (needs ethtool; costs CPU, see below)
#   NETLAB_CC        TCP congestion control of every host added while it is set (e.g. cubic);
#                    default: the machine's
#   NETLAB_SEED      linkemu's loss seed base (default 1; host N gets SEED+N)
#   NETLAB_VERBOSE=1 linkemu's counters on stderr at teardown
#
# Local service discovery (libtorrent 2.0.8) in the lab: a torrent announces when it starts, three
# times (0, 2 and 6 s), then once per local_service_announce_interval (300 s) divided by the
# number of torrents. A peer that hears an announce connects to the announcer, so a newcomer is
# found at once by every peer already running; the announcer learns of them only through those
# connections (and PEX). A seeder whose files are not checked yet skips its own announce. Each
# LSD socket joins the group on its listen address and sends with IP_MULTICAST_IF set to it.

_netlab_src=${BASH_SOURCE[0]}
_netlab_repo=$(cd "$(dirname "$_netlab_src")/.." && pwd)
NETLAB_RUN=${NETLAB_RUN:-/run/netlab}
NETLAB_SUBNET=10.77.0

_netlab_die() {
  echo "netlab: $*" >&2
  return 1
}

_netlab_state() { echo "$NETLAB_RUN/$1"; }

_netlab_check_prefix() {
  [[ $1 =~ ^[A-Za-z0-9_]{1,20}$ ]] || _netlab_die "prefix '$1' must be 1-20 letters, digits or '_'"
}

# Bytes per second from a tc rate (bare number = bit/s, as tc reads it).
_netlab_rate_bytes() {
  local r=${1,,} n u
  [[ $r =~ ^([0-9]+(\.[0-9]+)?)([a-z]*)$ ]] || return 1
  n=${BASH_REMATCH[1]} u=${BASH_REMATCH[3]}
  case $u in
    ""|bit) awk -v n="$n" 'BEGIN{printf "%d", n/8}' ;;
    kbit) awk -v n="$n" 'BEGIN{printf "%d", n*1000/8}' ;;
    mbit) awk -v n="$n" 'BEGIN{printf "%d", n*1000000/8}' ;;
    gbit) awk -v n="$n" 'BEGIN{printf "%d", n*1000000000/8}' ;;
    bps) awk -v n="$n" 'BEGIN{printf "%d", n}' ;;
    kbps) awk -v n="$n" 'BEGIN{printf "%d", n*1000}' ;;
    mbps) awk -v n="$n" 'BEGIN{printf "%d", n*1000000}' ;;
    gbps) awk -v n="$n" 'BEGIN{printf "%d", n*1000000000}' ;;
    *) return 1 ;;
  esac
}

_netlab_linkemu() {
  if [ -n "${NETLAB_LINKEMU:-}" ]; then
    [ -x "$NETLAB_LINKEMU" ] || { _netlab_die "NETLAB_LINKEMU=$NETLAB_LINKEMU is not executable"; return 1; }
    echo "$NETLAB_LINKEMU"
    return
  fi
  local built=$_netlab_repo/build/tests/linkemu own
  if [ -x "$built" ] && [ "$built" -nt "$_netlab_repo/tests/tools/linkemu.cpp" ]; then
    echo "$built"
    return
  fi
  own=$(_netlab_state "$NETLAB_PREFIX")/linkemu
  if [ ! -x "$own" ]; then
    g++ -std=c++17 -O2 -o "$own" "$_netlab_repo/tests/tools/linkemu.cpp" ||
      { _netlab_die "cannot build linkemu"; return 1; }
  fi
  echo "$own"
}

# htb on DEV's egress in namespace NS: RATE (tc units), one class, a byte-limited drop-tail fifo.
_netlab_shape() {
  local ns=$1 dev=$2 rate=$3 bytes burst limit
  [ "$rate" = 0 ] && return 0
  bytes=$(_netlab_rate_bytes "$rate") || { _netlab_die "bad rate '$rate'"; return 1; }
  # A burst of 1 ms at the rate (at least 16 KiB): with htb's default (1375 bytes at 1gbit) a
  # 1gbit class carried 930 Mbit/s of TCP payload, with this one 956 (the line rate less
  # headers). The fifo holds NETLAB_QUEUE_MS at the rate (at least 256 KiB), in bytes: a GSO
  # packet is one skb, so a packet-count limit would mean something else at every rate.
  burst=$(( bytes / 1000 ))
  [ "$burst" -lt 16384 ] && burst=16384
  limit=$(( bytes * ${NETLAB_QUEUE_MS:-20} / 1000 ))
  # At least 256 KiB: with GSO a single TCP burst is up to 64 KiB, and bbr (this machine's
  # default) pumps a 25mbit class with a 64 KiB fifo into a loss collapse (2 MB in 20 s).
  [ "$limit" -lt 262144 ] && limit=262144
  ip -n "$ns" link set dev "$dev" txqueuelen 1000 &&
  tc -n "$ns" qdisc replace dev "$dev" root handle 1: htb default 1 r2q 1000 &&
  tc -n "$ns" class add dev "$dev" parent 1: classid 1:1 htb rate "$rate" ceil "$rate" \
    burst "$burst" cburst "$burst" quantum 60000 &&
  tc -n "$ns" qdisc add dev "$dev" parent 1:1 handle 10: bfifo limit "$limit"
}

# Offloads on a veth end: kept (the kernel's default, TSO/GSO on) unless NETLAB_OFFLOAD=0.
# Measured here: htb holds its rate either way (956 Mbit/s of TCP payload through a 1gbit class,
# 95.6 through 100mbit: the line rate less headers), since a qdisc counts a GSO packet as its
# segments, headers included. With the offloads off, a 1 Gbit/s curl cost about one core of
# kernel time (nginx 1.1 s + curl 0.4 s of CPU per 200 MiB) against 0.1 s with them on: on a
# 2-core machine that would starve the peers being measured.
_netlab_offloads() {
  local ns=$1 dev=$2
  [ "${NETLAB_OFFLOAD:-1}" = 0 ] || return 0
  command -v ethtool >/dev/null || { _netlab_die "NETLAB_OFFLOAD=0 needs ethtool"; return 1; }
  ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null
}

netlab_init() {
  local prefix=$1 st
  _netlab_check_prefix "$prefix" || return 1
  [ "$(id -u)" = 0 ] || { _netlab_die "needs root"; return 1; }
  command -v ip >/dev/null && command -v tc >/dev/null || { _netlab_die "needs ip and tc (iproute2)"; return 1; }
  st=$(_netlab_state "$prefix")
  if [ -e "$st" ] || ip netns list | grep -q "^$prefix-sw\b"; then
    _netlab_die "a lab named $prefix already exists (netlab.sh down $prefix)"
    return 1
  fi
  NETLAB_PREFIX=$prefix
  mkdir -p "$st" && : >"$st/hosts" && : >"$st/bg" || return 1
  if [ "${NETLAB_NO_TRAP:-0}" != 1 ]; then _netlab_install_trap; fi
  local sw=$prefix-sw
  ip netns add "$sw" || { netlab_teardown; return 1; }
  # No IPv6 anywhere in the lab: no router solicitations, MLD or link-local chatter.
  ip netns exec "$sw" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
  # STP off and no forward delay: ports forward at once. Multicast snooping off: without a
  # querier in the lab, a snooping bridge would learn nothing and could stop flooding LSD's
  # 239.192.152.143 once a report is seen; flooding every multicast frame is what a dumb
  # switch does.
  ip -n "$sw" link set lo up &&
  ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 &&
  ip -n "$sw" link set br0 up || { netlab_teardown; return 1; }
}

netlab_add_host() {
  local name=$1 up=$2 down=$3 delay=${4:-0} jitter=${5:-0} loss=${6:-0}
  local prefix=${NETLAB_PREFIX:?netlab_init first} st n ip ns sw pidfile emu i
  st=$(_netlab_state "$prefix")
  [ $# -ge 3 ] || { _netlab_die "usage: netlab_add_host NAME UP DOWN [DELAY_MS [JITTER_MS [LOSS_PCT]]]"; return 1; }
  [[ $name =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{0,11}$ ]] || { _netlab_die "host name '$name': 1-12 letters, digits, '_' or '-'"; return 1; }
  [[ $name != sw ]] || { _netlab_die "host name 'sw' is the switch's"; return 1; }
  grep -q "^$name " "$st/hosts" && { _netlab_die "host $name exists"; return 1; }
  for i in "$up" "$down"; do
    [ "$i" = 0 ] || _netlab_rate_bytes "$i" >/dev/null || { _netlab_die "bad rate '$i'"; return 1; }
  done
  for i in "$delay" "$jitter" "$loss"; do
    [[ $i =~ ^[0-9]+(\.[0-9]+)?$ ]] || { _netlab_die "bad delay/jitter/loss '$i'"; return 1; }
  done
  n=$(( $(wc -l <"$st/hosts") + 1 ))
  [ "$n" -le 254 ] || { _netlab_die "at most 254 hosts"; return 1; }
  ip=$NETLAB_SUBNET.$n
  ns=$prefix-$name
  sw=$prefix-sw
  ip netns add "$ns" || return 1
  echo "$name $ip" >>"$st/hosts"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
  ip -n "$ns" link set lo up || return 1
  local kind=${NETLAB_LINK:-auto}
  if [ "$kind" = auto ]; then
    kind=veth
    if [ "$delay" != 0 ] || [ "$jitter" != 0 ] || [ "$loss" != 0 ]; then kind=emu; fi
  fi
  case $kind in
    veth|emu) ;;
    *) _netlab_die "NETLAB_LINK=$kind: auto, veth or emu"; return 1 ;;
  esac
  local port=h-$name
  if [ "$kind" = veth ]; then
    if [ "$delay" != 0 ] || [ "$jitter" != 0 ] || [ "$loss" != 0 ]; then
      _netlab_die "NETLAB_LINK=veth cannot add delay, jitter or loss (no netem)"
      return 1
    fi
    # Made inside the switch namespace, one end moved straight into the host: no interface
    # ever appears in the root namespace.
    ip -n "$sw" link add "h-$name" type veth peer name eth0 netns "$ns" || return 1
    _netlab_offloads "$sw" "h-$name" || return 1
    _netlab_offloads "$ns" eth0 || return 1
    _netlab_shape "$ns" eth0 "$up" || return 1
    _netlab_shape "$sw" "h-$name" "$down" || return 1
  else
    port=t-$name
    emu=$(_netlab_linkemu) || return 1
    pidfile=$st/linkemu.$name.pid
    # a = the host's eth0, b = the switch's t-NAME: a->b is the uplink, b->a the downlink.
    setsid "$emu" --a "$ns:eth0" --b "$sw:t-$name" --rate-ab "$up" --rate-ba "$down" \
      --delay "$delay" --jitter "$jitter" --loss "$loss" \
      --queue "${NETLAB_QUEUE_MS:-20}ms" --seed "$(( ${NETLAB_SEED:-1} + n ))" \
      --pidfile "$pidfile" </dev/null >"$st/linkemu.$name.log" 2>&1 &
    for i in $(seq 100); do
      [ -s "$pidfile" ] && break
      kill -0 $! 2>/dev/null || break
      sleep 0.05
    done
    [ -s "$pidfile" ] || { _netlab_die "linkemu for $name did not start: $(cat "$st/linkemu.$name.log")"; return 1; }
    cp "$pidfile" "$st/linkemu.$name.pidkeep"  # linkemu removes its pidfile on exit
  fi
  ip -n "$sw" link set "$port" master br0 &&
  ip -n "$sw" link set "$port" up || return 1
  ip -n "$ns" addr add "$ip/24" dev eth0 &&
  ip -n "$ns" link set eth0 up || return 1
  # A new namespace starts with the machine's default congestion control (bbr on ours, which
  # keeps 46 Mbit/s through 50 Mbit/s, 40 ms RTT and 0.5% loss, where cubic gets 5). NETLAB_CC
  # sets one on the subnet's route: the namespace's own sysctl refuses anything outside
  # net.ipv4.tcp_allowed_congestion_control (reno bbr here), a route's congctl does not.
  if [ -n "${NETLAB_CC:-}" ]; then
    ip -n "$ns" route replace "$NETLAB_SUBNET.0/24" dev eth0 proto kernel scope link src "$ip" \
      congctl "$NETLAB_CC" || return 1
  fi
  # A route for multicast only: a sender that does not pick an interface (IP_MULTICAST_IF)
  # needs one to reach 239.192.152.143 (libtorrent's LSD picks its listen address, other tools
  # may not). Not a default route: unicast beyond 10.77.0.0/24 then fails at once with "network
  # unreachable" instead of waiting on ARP that nobody answers; nothing could leave the lab
  # either way, the switch has no uplink.
  ip -n "$ns" route add 224.0.0.0/4 dev eth0 || return 1
}

netlab_ns() { echo "${NETLAB_PREFIX:?netlab_init first}-$1"; }

netlab_ip() {
  local st line
  st=$(_netlab_state "${NETLAB_PREFIX:?netlab_init first}")
  line=$(grep "^$1 " "$st/hosts" 2>/dev/null) || { _netlab_die "no host $1"; return 1; }
  echo "${line#* }"
}

netlab_hosts() { cut -d' ' -f1 "$(_netlab_state "${NETLAB_PREFIX:?netlab_init first}")/hosts"; }

netlab_exec() {
  local name=$1
  shift
  ip netns exec "${NETLAB_PREFIX:?netlab_init first}-$name" "$@"
}

netlab_bg() {
  local name=$1 log=$2 st
  shift 2
  st=$(_netlab_state "${NETLAB_PREFIX:?netlab_init first}")
  ip netns exec "$NETLAB_PREFIX-$name" "$@" </dev/null >"$log" 2>&1 &
  NETLAB_LAST_PID=$!
  echo "$NETLAB_LAST_PID" >>"$st/bg"
}

# PIDs of every process whose network namespace is one of the lab's, plus linkemu's.
_netlab_all_pids() {
  local prefix=$1 st ns f
  st=$(_netlab_state "$prefix")
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-"); do
    ip netns pids "$ns" 2>/dev/null
  done
  for f in "$st"/linkemu.*.pidkeep; do
    [ -s "$f" ] || continue
    _netlab_is_linkemu "$(cat "$f")" && cat "$f"
  done
  if [ -s "$st/bg" ]; then
    while read -r f; do kill -0 "$f" 2>/dev/null && echo "$f"; done <"$st/bg"
  fi
}

_netlab_is_linkemu() {
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "linkemu"
}

netlab_pids() { _netlab_all_pids "${1:-${NETLAB_PREFIX:?netlab_init first}}" | sort -un; }

netlab_teardown() {
  # Runs from traps, under the caller's set -e/-u/-o pipefail too: nothing here may abort it.
  local _opts=$- prefix=${1:-${NETLAB_PREFIX:-}}
  set +e
  _netlab_teardown "$prefix"
  [[ $_opts == *e* ]] && set -e
  return 0
}

_netlab_teardown() {
  local prefix=$1 st pids p ns f i alive
  [ -n "$prefix" ] || return 0
  _netlab_check_prefix "$prefix" || return 1
  st=$(_netlab_state "$prefix")
  # Processes in the lab first (TERM, then KILL after 3 s), then linkemu, then the namespaces.
  pids=$(_netlab_all_pids "$prefix" | sort -un | grep -vx "$$")
  if [ -n "$pids" ]; then
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 60); do
      alive=
      for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ -z "$alive" ] && break
      sleep 0.05
    done
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
  fi
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-"); do
    ip netns del "$ns" 2>/dev/null
  done
  if [ -d "$st" ]; then
    if [ "${NETLAB_VERBOSE:-0}" = 1 ]; then
      for f in "$st"/linkemu.*.log; do [ -s "$f" ] && sed "s/^/netlab $prefix: /" "$f" >&2; done
    fi
    rm -rf "$st"
  fi
  [ "${NETLAB_PREFIX:-}" = "$prefix" ] && NETLAB_PREFIX=
  return 0
}

# Trap: teardown, then the caller's earlier handler for the same signal.
_netlab_prev_trap() {
  local t
  t=$(trap -p "$1")
  [ -n "$t" ] || return 0
  eval "set -- $t"
  echo "$3"
}

_netlab_install_trap() {
  _NETLAB_PREV_EXIT=$(_netlab_prev_trap EXIT)
  _NETLAB_PREV_INT=$(_netlab_prev_trap INT)
  _NETLAB_PREV_TERM=$(_netlab_prev_trap TERM)
  trap '_netlab_on_signal EXIT' EXIT
  trap '_netlab_on_signal INT' INT
  trap '_netlab_on_signal TERM' TERM
}

_netlab_on_signal() {
  local rc=$? prev
  set +e
  netlab_teardown
  case $1 in
    EXIT) prev=$_NETLAB_PREV_EXIT ;;
    INT) prev=$_NETLAB_PREV_INT ;;
    TERM) prev=$_NETLAB_PREV_TERM ;;
  esac
  [ -n "$prev" ] && eval "$prev"
  case $1 in
    INT) trap - INT; exit 130 ;;
    TERM) trap - TERM; exit 143 ;;
  esac
  return $rc
}

# Command mode.
_netlab_main() {
  local cmd=${1:-} prefix=${2:-} spec name up down rest delay jitter loss
  case $cmd in
    up)
      [ $# -ge 3 ] || { echo "usage: netlab.sh up PREFIX NAME:UP:DOWN[:DELAY[:JITTER[:LOSS]]]..." >&2; return 2; }
      shift 2
      NETLAB_NO_TRAP=1
      # On failure (or Ctrl-C) while coming up, nothing is left behind.
      trap 'netlab_teardown "$prefix"; exit 130' INT TERM
      netlab_init "$prefix" || return 1
      for spec in "$@"; do
        IFS=: read -r name up down delay jitter loss rest <<<"$spec"
        if [ -z "$name" ] || [ -z "$up" ] || [ -z "$down" ] || [ -n "$rest" ]; then
          echo "netlab: bad host spec '$spec' (NAME:UP:DOWN[:DELAY[:JITTER[:LOSS]]])" >&2
          netlab_teardown "$prefix"
          return 2
        fi
        netlab_add_host "$name" "$up" "$down" "${delay:-0}" "${jitter:-0}" "${loss:-0}" ||
          { netlab_teardown "$prefix"; return 1; }
      done
      trap - INT TERM
      cat "$(_netlab_state "$prefix")/hosts"
      ;;
    down)
      [ -n "$prefix" ] || { echo "usage: netlab.sh down PREFIX" >&2; return 2; }
      netlab_teardown "$prefix"
      ;;
    exec)
      [ $# -ge 4 ] || { echo "usage: netlab.sh exec PREFIX HOST CMD..." >&2; return 2; }
      _netlab_check_prefix "$prefix" || return 2
      name=$3
      shift 3
      exec ip netns exec "$prefix-$name" "$@"
      ;;
    ip)
      [ $# -eq 3 ] || { echo "usage: netlab.sh ip PREFIX HOST" >&2; return 2; }
      _netlab_check_prefix "$prefix" || return 2
      NETLAB_PREFIX=$prefix netlab_ip "$3"
      ;;
    pids)
      [ -n "$prefix" ] || { echo "usage: netlab.sh pids PREFIX" >&2; return 2; }
      _netlab_check_prefix "$prefix" || return 2
      netlab_pids "$prefix"
      ;;
    *)
      echo "usage: netlab.sh up PREFIX SPEC... | down PREFIX | exec PREFIX HOST CMD... | ip PREFIX HOST | pids PREFIX" >&2
      return 2
      ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -u
  _netlab_main "$@"
  exit $?
fi
