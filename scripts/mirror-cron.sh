#!/usr/bin/env bash
# Example cron job: keep the releases listed in a mirror file present and current.
#   */30 * * * *  /opt/modelswarm/scripts/mirror-cron.sh /etc/modelswarm/mirrors.json
# Logs one JSON line per release plus a summary; alerts only on failures. Exit codes are
# modelswarm's (see `man modelswarm`): 3 trust, 4 content, 5 network, 6 I/O.
set -uo pipefail
mirror_file=${1:?usage: mirror-cron.sh MIRRORFILE}
log_dir=${LOG_DIR:-/var/log/modelswarm}
modelswarm=${MODELSWARM:-modelswarm}
mkdir -p "$log_dir"

# One run at a time: a slow fetch must not overlap with the next cron tick.
exec 9>"$log_dir/mirror.lock"
flock -n 9 || { echo "mirror-cron: previous run still active" >&2; exit 0; }

log="$log_dir/mirror-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
"$modelswarm" mirror "$mirror_file" --json --quiet >"$log"
rc=$?
case $rc in
  0) ;;
  3) echo "mirror-cron: TRUST FAILURE (bad signature, rollback or expired release); see $log" >&2 ;;
  4) echo "mirror-cron: content mismatch; see $log" >&2 ;;
  5) echo "mirror-cron: network failure, will retry next run; see $log" >&2 ;;
  *) echo "mirror-cron: failed with exit code $rc; see $log" >&2 ;;
esac
# Keep two weeks of logs.
find "$log_dir" -name 'mirror-*.jsonl' -mtime +14 -delete 2>/dev/null
exit $rc
