#!/usr/bin/env bash
# Builds the Debian package, installs it on this machine, checks what it installed, runs the
# installed server as its service user with the installed settings, reinstalls it, and purges
# it. Needs root and dpkg; leaves no user, folder or file behind. Used by .ci/run.
#   packaging/test-deb.sh [build-deb.sh options, e.g. --no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
ok() { echo "test-deb: ok: $*"; }
[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg -i)"
if dpkg -s candex >/dev/null 2>&1; then fail "a candex package is already installed; remove it first"; fi
if getent passwd candex >/dev/null || [ -e /var/lib/candex ] || [ -e /etc/candex ]; then
  fail "the user candex, /var/lib/candex or /etc/candex exists already; this test would not be clean"
fi

server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  dpkg --purge candex >/dev/null 2>&1 || true
  userdel candex >/dev/null 2>&1 || true
  groupdel candex >/dev/null 2>&1 || true
  rm -rf /var/lib/candex /etc/candex
}
trap cleanup EXIT

deb=$(packaging/build-deb.sh "$@" | tail -n1)
[ -f "$deb" ] || fail "build-deb.sh did not print a package path (got: $deb)"
ok "built $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n '/Package:/,/Description:/p'

# Owner, group and mode of a path, e.g. "candex candex 700".
perms() { stat -c '%U %G %a' "$1"; }
expect_perms() { local got; got=$(perms "$1"); [ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"; ok "$1 $2"; }

# What the package holds (whatever this machine's dpkg leaves out, see below).
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/candex ./usr/lib/systemd/system/candex.service ./etc/candex/candex.toml \
         ./usr/share/man/man1/candex.1.gz ./usr/share/man/man1/candex-serve.1.gz \
         ./usr/share/bash-completion/completions/candex ./usr/share/zsh/vendor-completions/_candex \
         ./usr/share/fish/vendor_completions.d/candex.fish ./usr/share/doc/candex/copyright; do
  grep -q " $f\$" <<<"$contents" || fail "the package lacks $f"
done
ok "the package holds the binary, unit, settings, man pages, completions and copyright"
# Slim images tell dpkg to skip man pages (path-exclude=/usr/share/man/*); check the installed
# pages only where dpkg installs them.
man_excluded=0
if grep -rqs '^path-exclude=*/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then man_excluded=1; fi

dpkg -i "$deb"
dpkg -s candex | grep -q '^Status: install ok installed' || fail "dpkg -s candex: not installed"

# The binary, completions, man pages, unit.
version=$(candex --version)
case "$version" in "candex "*) ok "candex --version: $version" ;; *) fail "candex --version printed '$version'" ;; esac
[ "$(command -v candex)" = /usr/bin/candex ] || fail "candex is not /usr/bin/candex"
for f in /usr/share/bash-completion/completions/candex /usr/share/zsh/vendor-completions/_candex \
         /usr/share/fish/vendor_completions.d/candex.fish; do
  [ -s "$f" ] || fail "completion file $f missing or empty"
  grep -q serve "$f" || fail "$f does not complete 'serve'"
  ok "completion $f"
done
if [ "$man_excluded" = 1 ]; then
  echo "test-deb: this machine's dpkg excludes /usr/share/man; the package's pages were checked above"
else
  [ -s /usr/share/man/man1/candex.1.gz ] || fail "/usr/share/man/man1/candex.1.gz missing"
  zcat /usr/share/man/man1/candex.1.gz | grep -q '^\.TH candex' || fail "candex.1.gz is not a man page"
  [ -s /usr/share/man/man1/candex-serve.1.gz ] || fail "/usr/share/man/man1/candex-serve.1.gz missing"
  if command -v man >/dev/null; then
    [ "$(man -w candex)" = /usr/share/man/man1/candex.1.gz ] || fail "man -w candex: $(man -w candex 2>&1)"
    ok "man -w candex"
  fi
  ok "man pages ($(ls /usr/share/man/man1/candex*.1.gz | wc -l) pages)"
fi
unit=/usr/lib/systemd/system/candex.service
[ -f "$unit" ] || fail "$unit missing"
grep -q '^ExecStart=/usr/bin/candex --config /etc/candex/candex.toml serve$' "$unit" || fail "$unit: unexpected ExecStart"
grep -q '^User=candex$' "$unit" || fail "$unit: not User=candex"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
  ok "systemd-analyze verify $unit"
fi
ok "unit $unit"

# The user, and owner-only folders and files.
getent passwd candex | grep -q ':/var/lib/candex:/usr/sbin/nologin$' || fail "user candex: $(getent passwd candex)"
ok "system user: $(getent passwd candex)"
expect_perms /var/lib/candex "candex candex 700"
expect_perms /etc/candex "root candex 750"
expect_perms /etc/candex/candex.toml "root candex 640"
expect_perms /etc/candex/master.key "candex candex 600"
expect_perms /etc/default/candex "root root 600"
key_sum=$(sha256sum /etc/candex/master.key)

# The installed server, as systemd would start it (user candex, umask 0077, in its state
# folder, with the installed settings); only the port comes from the command line.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
(cd /var/lib/candex && umask 0077 && exec runuser -u candex -- /usr/bin/candex --config /etc/candex/candex.toml serve --listen "127.0.0.1:$port") >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$log"; fail "the installed server did not become ready"; }
ok "installed server ready on 127.0.0.1:$port"
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
[ -f /var/lib/candex/candex.db ] || { cat "$log"; fail "the server did not create /var/lib/candex/candex.db (config file not applied?)"; }
loose=$(find /var/lib/candex \( ! -user candex -o -perm /077 \) -printf '%M %u %p\n')
[ -z "$loose" ] || fail "files in /var/lib/candex that are not the service's only: $loose"
ok "every file in /var/lib/candex is candex's and owner-only: $(find /var/lib/candex | wc -l) entries"
expect_perms /var/lib/candex/candex.db "candex candex 600"
# The admin commands find the same database through the file.
runuser -u candex -- /usr/bin/candex --config /etc/candex/candex.toml admin hirer list >/dev/null \
  || fail "admin hirer list with the installed settings"
ok "admin hirer list with the installed settings"

# Reinstall (upgrade path): the master key and settings survive.
dpkg -i "$deb" >/dev/null
[ "$(sha256sum /etc/candex/master.key)" = "$key_sum" ] || fail "reinstalling replaced the master key"
expect_perms /var/lib/candex "candex candex 700"
ok "reinstalled; master key kept"

# Purge: the program and its settings go; the data and the master key stay.
dpkg --purge candex >/dev/null
[ ! -e /usr/bin/candex ] || fail "/usr/bin/candex left after purge"
[ ! -e /etc/candex/candex.toml ] || fail "/etc/candex/candex.toml left after purge"
[ -d /var/lib/candex ] && [ -f /etc/candex/master.key ] || fail "purge removed the data or the master key"
ok "purged; /var/lib/candex and the master key kept"
echo "test-deb: all checks passed"
