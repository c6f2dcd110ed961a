"""A minimal desktop launcher for tests: alt+F2 opens a run dialog, the command typed there starts.

Bare Xvfb has no desktop, so the open-app skill needs something that behaves like GNOME's
"Enter a Command" or Xfce's alt+F2 finder. This grabs alt+F2 on the root window (a real
passive key grab, as window managers do), shows a real GTK entry dialog (zenity) and runs
what was typed, without a shell. It prints "ready" once the grab is in place.

    python3 tests/run_dialog.py    (with DISPLAY set)
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys

from Xlib import XK, X, display


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the finally below ends our children
    d = display.Display()
    root = d.screen().root
    f2 = d.keysym_to_keycode(XK.string_to_keysym("F2"))
    for extra in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask):  # caps/num lock on or off
        root.grab_key(f2, X.Mod1Mask | extra, True, X.GrabModeAsync, X.GrabModeAsync)
    d.sync()
    print("ready", flush=True)
    children: list[subprocess.Popen[bytes]] = []
    try:
        while True:
            event = d.next_event()
            if event.type != X.KeyPress:
                continue
            answer = subprocess.run(
                ["zenity", "--entry", "--title", "Run Application", "--text", "Enter a command:"],
                capture_output=True,
                text=True,
            )
            command = answer.stdout.strip()
            if answer.returncode == 0 and command:
                print(f"starting {command}", flush=True)
                children.append(subprocess.Popen(shlex.split(command), stdin=subprocess.DEVNULL))
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
