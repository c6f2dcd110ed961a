#!/usr/bin/env bash
# The README's demo: set up a fresh machine, start a private virtual display, open the demo
# app on it, and let screenagent drive it; prints the run directory (step log + screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh >/dev/null
state="$(mktemp -d)/demo-state.json"
.venv/bin/screenagent run "Fill in the contact form, submit it, open a file, drop the square, save" \
  --script examples/demo_script.json \
  --virtual-display 1280x800 \
  --launch ".venv/bin/python examples/demo_app.py --state $state" \
  "$@"
