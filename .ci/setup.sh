#!/usr/bin/env bash
# Installs everything a fresh machine lacks, idempotently: Debian packages (a virtual X server
# and the X tools the tests use), a venv in .venv with torch==2.13.0 FIRST (a CPU build; any
# other order pulls several GB of CUDA wheels), then screenagent with every extra.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_=""
if [ "$(id -u)" -ne 0 ]; then sudo_="sudo"; fi

# program -> Debian package
declare -A wanted=(
  [Xvfb]=xvfb
  [xdotool]=xdotool
  [xdpyinfo]=x11-utils
  [xclip]=xclip
  [zenity]=zenity
  [tesseract]=tesseract-ocr
  [chromium]=chromium
  [xterm]=xterm
  # the owned desktop (screenagent.desktop): window manager, session bus, accessibility bus
  [openbox]=openbox
  [dbus-daemon]=dbus-daemon
  [dbus-send]=dbus-bin
  # the real-app corpus (tests/apps/corpus.py)
  [mousepad]=mousepad
  [galculator]=galculator
  [featherpad]=featherpad
  # `screenagent record --vnc`: a person watches and drives the recorder's desktop
  [x11vnc]=x11vnc
)
missing=()
for prog in "${!wanted[@]}"; do
  command -v "$prog" >/dev/null 2>&1 || missing+=("${wanted[$prog]}")
done
[ -x /usr/libexec/at-spi-bus-launcher ] || missing+=(at-spi2-core)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if ! "$PY" -c "import tkinter" 2>/dev/null; then
  echo "setup: $PY has no tkinter (the demo app needs it); installing python3-tk"
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq python3-tk >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "setup: installing torch==2.13.0 (CPU) first"
  "${pip[@]}" torch==2.13.0
fi
echo "setup: installing screenagent with all extras (and Ray, for the batch tests)"
"${pip[@]}" -e '.[all,dev,ray]'
# pyautogui also pulls the old python3-xlib, which shares the Xlib package; 0.33 must win.
"${pip[@]}" --force-reinstall --no-deps 'python-xlib>=0.33'
echo "setup: done"
