"""The accessibility tree (AT-SPI on Linux) as a grounder and a reader of states and values.

Toolkits describe their widgets on the AT-SPI bus: a button named "=", an entry labelled
"Full name", a check box with its ``checked`` state. `TreeReader` reads the showing part of
that tree (`Snapshot`) fast enough for every step, maps its boxes into frame pixels and hides
what other windows cover; the grounding chain asks it before OCR. Tk, remote screens and
canvases expose no tree: OCR answers there.

The reader needs the optional extra (``pip install 'screenagent[a11y]'``, the pure-Python
D-Bus client jeepney) and a desktop with an accessibility bus (`screenagent.desktop`).
"""

from .atspi import A11yUnavailable, AtspiBus
from .reader import TreeReader, TreeView
from .tree import Limits, Node, Snapshot, read_snapshot

__all__ = ["A11yUnavailable", "AtspiBus", "Limits", "Node", "Snapshot", "TreeReader",
           "TreeView", "read_snapshot"]  # fmt: skip
