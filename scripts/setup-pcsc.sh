#!/usr/bin/env bash
# Sets up the PC/SC stack Tapwallet's PC/SC transport and vpcd bridge use, on Debian 12+ and Ubuntu 22.04+:
#   - installs pcscd, vsmartcard-vpcd (the virtual reader "Virtual PCD 00 00"), libpcsclite-dev (to build
#     @pokusew/pcsclite), pcsc-tools (pcsc_scan, scriptor), opensc (opensc-tool), python3-pyscard, and a C
#     compiler for our vpcd shim, with apt-get (non-interactive, no recommends), only what is missing;
#   - stops a systemd-managed pcscd, then runs pcscd in the foreground as a background process, logging to
#     a file, with scripts/vpcd-nodelay.c preloaded (vpcd 0.8's ~40 ms Nagle delay per APDU, and its
#     0.0.0.0 listener narrowed to loopback; see docs/PCSC.md), and waits until pcscd's socket and vpcd's
#     port are up.
# Idempotent: what is installed stays, a pcscd already running as asked stays running.
#
# Usage: sudo bash scripts/setup-pcsc.sh [--no-shim] [--restart] [--stop]
#   --no-shim   run pcscd without the shim (to measure the stock vpcd)
#   --restart   restart pcscd even if it runs as asked
#   --stop      stop pcscd (whoever started it outside systemd) and exit
# Environment: TAPWALLET_PCSC_DIR (default /var/lib/tapwallet/pcsc: shim, log, pid),
#   PCSCD_ARGS (extra pcscd options, e.g. "--apdu --debug"), TAPWALLET_VPCD_PUBLIC=1 (keep vpcd on 0.0.0.0).
set -euo pipefail

PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev pcsc-tools opensc python3-pyscard gcc libc6-dev)
STATE_DIR=${TAPWALLET_PCSC_DIR:-/var/lib/tapwallet/pcsc}
SHIM_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/vpcd-nodelay.c"
SHIM_SO="$STATE_DIR/vpcd-nodelay.so"
LOG="$STATE_DIR/pcscd.log"
PID_FILE="$STATE_DIR/pcscd.pid"
PCSCD_SOCKET=/run/pcscd/pcscd.comm
VPCD_PORT_HEX=8C7B # 35963, slot 0 of /etc/reader.conf.d/vpcd

want_shim=1
restart=0
stop_only=0
for arg in "$@"; do
  case "$arg" in
    --no-shim) want_shim=0 ;;
    --restart) restart=1 ;;
    --stop) stop_only=1 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *)
      echo "setup-pcsc: 未知选项 / unknown option: $arg" >&2
      exit 2
      ;;
  esac
done

say() { echo "setup-pcsc: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo > /dev/null; then exec sudo -E bash "${BASH_SOURCE[0]}" "$@"; fi
  echo "setup-pcsc: 需要 root 权限 / must run as root (sudo bash scripts/setup-pcsc.sh)" >&2
  exit 1
fi

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2> /dev/null)" != "installed" ]; then missing+=("$p"); fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "packages already installed"
    return
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq -o DPkg::Lock::Timeout=300
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" > "$STATE_DIR/apt.log" 2>&1 || {
    tail -20 "$STATE_DIR/apt.log" >&2
    exit 1
  }
}

# A pcscd started by systemd (socket activation) would hold /run/pcscd and run without the shim.
stop_systemd_pcscd() {
  if [ -d /run/systemd/system ] && command -v systemctl > /dev/null; then
    if systemctl is-active --quiet pcscd.socket || systemctl is-active --quiet pcscd.service; then
      say "stopping systemd's pcscd.socket and pcscd.service"
      systemctl stop pcscd.socket pcscd.service
    fi
  fi
}

build_shim() {
  local tmp
  tmp=$(mktemp "$STATE_DIR/vpcd-nodelay.XXXXXX.so")
  cc -shared -fPIC -O2 -Wall -Wextra -o "$tmp" "$SHIM_SRC" -ldl
  if [ -f "$SHIM_SO" ] && cmp -s "$tmp" "$SHIM_SO"; then rm -f "$tmp"; else mv -f "$tmp" "$SHIM_SO"; fi
}

running_pcscd() { pgrep -x pcscd | head -n1 || true; }

shim_loaded() { grep -q 'vpcd-nodelay' "/proc/$1/maps" 2> /dev/null; }

stop_pcscd() {
  local pid
  pid=$(running_pcscd)
  [ -n "$pid" ] || return 0
  say "stopping pcscd (pid $pid)"
  kill -TERM "$pid" 2> /dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.05
  done
  kill -0 "$pid" 2> /dev/null && kill -KILL "$pid" 2> /dev/null || true
  rm -f "$PID_FILE"
}

vpcd_listening() {
  awk -v port=":$VPCD_PORT_HEX" '$4 == "0A" && substr($2, length($2) - 4) == port { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2> /dev/null
}

start_pcscd() {
  local preload=""
  [ "$want_shim" = 1 ] && preload="$SHIM_SO"
  say "starting pcscd${preload:+ with $(basename "$preload")}, log $LOG"
  # shellcheck disable=SC2086 # PCSCD_ARGS is a list of options
  LD_PRELOAD="$preload" setsid pcscd --foreground --info ${PCSCD_ARGS:-} >> "$LOG" 2>&1 < /dev/null &
  echo $! > "$PID_FILE"
}

wait_ready() {
  for _ in $(seq 1 200); do
    if [ -S "$PCSCD_SOCKET" ] && vpcd_listening; then return 0; fi
    if ! kill -0 "$(cat "$PID_FILE")" 2> /dev/null; then break; fi
    sleep 0.05
  done
  echo "setup-pcsc: pcscd 未就绪 / pcscd did not come up; its log:" >&2
  tail -20 "$LOG" >&2
  exit 1
}

mkdir -p "$STATE_DIR"
if [ "$stop_only" = 1 ]; then
  stop_pcscd
  exit 0
fi
install_packages
stop_systemd_pcscd
[ "$want_shim" = 1 ] && build_shim

pid=$(running_pcscd)
if [ -n "$pid" ] && [ "$restart" = 0 ]; then
  if [ "$want_shim" = 1 ] && ! shim_loaded "$pid"; then
    say "pcscd (pid $pid) runs without the shim: restarting it"
    restart=1
  elif [ "$want_shim" = 0 ] && shim_loaded "$pid"; then
    say "pcscd (pid $pid) runs with the shim: restarting it without"
    restart=1
  fi
fi
[ "$restart" = 1 ] && stop_pcscd
if [ -z "$(running_pcscd)" ]; then start_pcscd; else say "pcscd already running (pid $(running_pcscd))"; fi
[ -f "$PID_FILE" ] || running_pcscd > "$PID_FILE"
wait_ready
pid=$(running_pcscd)
say "ready: pcscd pid $pid, socket $PCSCD_SOCKET, vpcd on port 35963 ($(shim_loaded "$pid" && echo "shim loaded" || echo "no shim"))"
