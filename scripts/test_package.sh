#!/usr/bin/env bash
# CI check of the Debian package (CTest: test_package): build it with CPack, list it, check the
# systemd units, unpack it into a throwaway root and run the binary and man from there, and
# run lintian (no errors allowed). Usage: scripts/test_package.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: test_package.sh BUILD_DIR}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "test_package: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$work"/out/modelswarm_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb produced"
echo "package: $(basename "$deb")"

# Contents: binary, man pages, completion, units, schemas; nothing of the -dev kind.
dpkg-deb -c "$deb" >"$work/contents"
for path in ./usr/bin/modelswarm ./usr/share/man/man1/modelswarm.1.gz ./usr/share/man/man1/modelswarm-fetch.1.gz \
    ./usr/share/man/man1/modelswarm-serve.1.gz ./usr/share/bash-completion/completions/modelswarm \
    ./lib/systemd/system/modelswarm-mirror.service ./lib/systemd/system/modelswarm-serve.service \
    ./usr/share/modelswarm/schemas/catalogue.schema.json ./usr/share/modelswarm/schemas/mirror.schema.json \
    ./usr/share/modelswarm/schemas/manifest.schema.json ./usr/share/doc/modelswarm/copyright; do
  grep -q " $path\$" "$work/contents" || fail "$path missing from the package"
done
! grep -qE '\.a$|/include/|\.cmake$' "$work/contents" || fail "library files in the package"
# Into a file first: `| grep -q` under pipefail fails when grep exits before dpkg-deb has written.
dpkg-deb -I "$deb" >"$work/info"
grep -q "Depends:.*libtorrent" "$work/info" || fail "no shared-library dependencies computed"

# A throwaway root: unpack (maintainer scripts are not run, so the host's users are untouched).
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-not-root --force-depends --log=/dev/null --unpack "$deb" >/dev/null
version=$("$root/usr/bin/modelswarm" --version) || fail "modelswarm --version failed in the root"
[[ "$version" == "modelswarm "* ]] || fail "modelswarm --version printed: $version"
MANPATH="$root/usr/share/man" man -w modelswarm-fetch | grep -q "^$root/usr/share/man/man1/modelswarm-fetch.1.gz$" ||
  fail "man -w modelswarm-fetch does not find the packaged page"
MANPATH="$root/usr/share/man" man -w modelswarm-serve >/dev/null || fail "man -w modelswarm-serve"

# The completion is the binary's own: every subcommand of --help, and the serve flags.
bash -c 'source "$1"; COMP_WORDS=(modelswarm ""); COMP_CWORD=1; _modelswarm; echo "${COMPREPLY[*]}"' _ \
  "$root/usr/share/bash-completion/completions/modelswarm" >"$work/words"
for cmd in $("$root/usr/bin/modelswarm" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 {print $1}'); do
  grep -qw -- "$cmd" "$work/words" || fail "completion lacks subcommand $cmd"
done
bash -c 'source "$1"; COMP_WORDS=(modelswarm serve --cata); COMP_CWORD=2; _modelswarm; echo "${COMPREPLY[*]}"' _ \
  "$root/usr/share/bash-completion/completions/modelswarm" | grep -qx -- --catalogue || fail "completion of serve flags"

# The units, with the packaged binary and man pages in place of the system's.
for unit in modelswarm-mirror.service modelswarm-serve.service; do
  sed "s|/usr/bin/modelswarm|$root/usr/bin/modelswarm|" "$root/lib/systemd/system/$unit" >"$work/$unit"
  MANPATH="$root/usr/share/man" systemd-analyze verify --man=yes "$work/$unit" 2>&1 | tee "$work/verify.log" >&2
  [ ! -s "$work/verify.log" ] || fail "systemd-analyze verify $unit reported problems"
done
grep -q '^SuccessExitStatus=130' "$root/lib/systemd/system/modelswarm-mirror.service" || fail "mirror unit: exit 130"
for unit in modelswarm-mirror.service modelswarm-serve.service; do
  grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$root/lib/systemd/system/$unit" || fail "$unit: no reload"
done

# postinst creates the units' system user, once: run it twice against a copy of /etc, bind-mounted
# over /etc in a mount namespace of its own, so that the host's users are untouched.
postinst="$root/var/lib/dpkg/info/modelswarm.postinst"
[ -f "$postinst" ] || fail "no postinst in the package"
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v adduser >/dev/null; then
  cp -a /etc "$work/etc"
  unshare -m sh -c 'mount --make-rprivate / && mount --bind "$1" /etc && sh "$2" configure && sh "$2" configure &&
                    getent passwd modelswarm && getent group modelswarm' _ "$work/etc" "$postinst" >"$work/postinst.log" 2>&1 ||
    { cat "$work/postinst.log" >&2; fail "postinst configure failed"; }
  grep -q '^modelswarm:x:[0-9]*:[0-9]*:.*:/var/lib/modelswarm:/usr/sbin/nologin$' "$work/postinst.log" ||
    { cat "$work/postinst.log" >&2; fail "postinst did not create the modelswarm system user"; }
  [ "$(grep -c '^modelswarm:' "$work/etc/passwd")" = 1 ] || fail "postinst run twice made more than one user"
else
  echo "test_package: postinst not exercised (needs root, unshare and adduser)" >&2
fi

# lintian: no errors (warnings are printed for the record).
if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1 || true
  cat "$work/lintian.log"
  ! grep -q '^E: ' "$work/lintian.log" || fail "lintian reported errors"
else
  echo "test_package: lintian not installed (scripts/setup.sh installs it); skipped" >&2
fi
echo "test_package: ok"
