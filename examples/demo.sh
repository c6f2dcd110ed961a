#!/usr/bin/env bash
# The README's demo: set up a fresh machine, start a private virtual display, open the demo
# app on it, and let screenagent's default policy (the OCR step-follower, no model weights)
# follow examples/demo_task.txt; prints each step and, last, the run directory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh >/dev/null
state="$(mktemp -d)/demo-state.json"
.venv/bin/screenagent run "$(cat examples/demo_task.txt)" \
  --virtual-display 1280x800 \
  --launch ".venv/bin/python examples/demo_app.py --state $state" \
  --report \
  "$@"
