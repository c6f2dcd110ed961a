"""A small Tk app for screenagent to drive: a form, buttons, a menu, a scrolling list, a drag
area, its own error dialog and a real Tk messagebox (Tools > Check for updates, or Ctrl+U).

It writes its whole state to a JSON file on every change (atomically), including the true
screen geometry of every widget, so demos and tests can check that each action landed where it
was aimed. The layout is fixed in pixels (``place``) so that the same script works every time.

Run: ``python examples/demo_app.py --state /tmp/demo-state.json``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import tkinter as tk
from pathlib import Path
from typing import Any

ITEMS = [f"Item {i:02d}" for i in range(1, 41)]
WINDOW = (0, 0, 900, 640)  # x, y, width, height: the app sits in the top-left corner


class DemoApp:
    def __init__(self, root: tk.Tk, state_path: Path, *, at: tuple[int, int] = (0, 0)) -> None:
        self.root = root
        self.state_path = state_path
        self.slow_marker: Path | None = None
        self.state: dict[str, Any] = {
            "name": "",
            "email": "",
            "subscribe": False,
            "submitted": [],
            "saves": 0,
            "saved_as": None,
            "selected": None,
            "opened": [],
            "list_top": 0,
            "token": None,
            "drops": [],
            "clicks": [],
            "keys": [],
            "dialog": None,
            "status": "Ready",
            "menu": [],
            "reports": 0,
            "focus": None,
            "widgets": {},
            "ready": False,
        }
        root.title("screenagent demo")
        _, _, w, h = WINDOW
        root.geometry(f"{w}x{h}+{at[0]}+{at[1]}")
        root.resizable(False, False)
        self.w: dict[str, tk.Widget] = {}
        self._build()
        root.bind_all("<ButtonPress>", self._on_press, add="+")
        root.bind_all("<Double-Button-1>", self._on_double, add="+")
        root.bind_all("<KeyPress>", self._on_key, add="+")
        root.bind_all("<FocusIn>", self._on_focus, add="+")
        root.bind_all("<Control-s>", lambda e: self._save())
        root.bind_all("<Control-S>", lambda e: self._save_as())  # ctrl+shift+s
        root.bind_all("<Control-u>", lambda e: self._check_updates())
        root.after(200, self._ready)

    # --- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        r = self.root
        menubar = tk.Menu(r)
        filemenu = tk.Menu(menubar, tearoff=False)
        filemenu.add_command(label="New", command=lambda: self._menu("File/New"))
        filemenu.add_command(label="Save", accelerator="Ctrl+S", command=self._save)
        filemenu.add_command(label="Save As...", accelerator="Ctrl+Shift+S", command=self._save_as)
        filemenu.add_separator()
        filemenu.add_command(label="Quit", command=r.destroy)
        # Tools: two items that name errors without reporting one (a reader of on-screen errors
        # must not report them), and one that fails with a real Tk messagebox.
        toolsmenu = tk.Menu(menubar, tearoff=False)
        toolsmenu.add_command(
            label="Error handling...", command=lambda: self._menu("Tools/Error handling")
        )
        toolsmenu.add_command(
            label="Show error log", command=lambda: self._menu("Tools/Show error log")
        )
        toolsmenu.add_command(
            label="Check for updates", accelerator="Ctrl+U", command=self._check_updates
        )
        helpmenu = tk.Menu(menubar, tearoff=False)
        helpmenu.add_command(label="About", command=lambda: self._menu("Help/About"))
        menubar.add_cascade(label="File", menu=filemenu)
        menubar.add_cascade(label="Tools", menu=toolsmenu)
        menubar.add_cascade(label="Help", menu=helpmenu)
        r.config(menu=menubar)

        def place(name: str, widget: tk.Widget, x: int, y: int, w: int, h: int) -> tk.Widget:
            widget.place(x=x, y=y, width=w, height=h)
            self.w[name] = widget
            return widget

        place("title", tk.Label(r, text="Contact form", font=("DejaVu Sans", 16, "bold"), anchor="w"),
              20, 10, 400, 34)  # fmt: skip
        place("name_label", tk.Label(r, text="Name", anchor="w"), 20, 60, 90, 30)
        self.name_var = tk.StringVar()
        self.name_var.trace_add("write", lambda *a: self._set(name=self.name_var.get()))
        place("name", tk.Entry(r, textvariable=self.name_var), 120, 60, 300, 30)
        place("email_label", tk.Label(r, text="Email", anchor="w"), 20, 100, 90, 30)
        self.email_var = tk.StringVar()
        self.email_var.trace_add("write", lambda *a: self._set(email=self.email_var.get()))
        place("email", tk.Entry(r, textvariable=self.email_var), 120, 100, 300, 30)
        self.sub_var = tk.BooleanVar()
        place("subscribe", tk.Checkbutton(r, text="Subscribe to news", variable=self.sub_var,
              command=lambda: self._set(subscribe=self.sub_var.get()), anchor="w"),
              120, 140, 300, 30)  # fmt: skip
        place("submit", tk.Button(r, text="Submit", command=self._submit), 120, 185, 120, 36)
        place("clear", tk.Button(r, text="Clear", command=self._clear), 260, 185, 120, 36)
        # "Refresh" shows an "Open report" button 1.5 s later (a target that appears late);
        # clicking that button hides it again 1 s later (a target that goes away).
        place("refresh", tk.Button(r, text="Refresh", command=self._refresh), 760, 86, 120, 36)
        self.report = tk.Button(r, text="Open report", command=self._open_report)
        self.w["report"] = self.report
        self.status = tk.Label(r, text="Ready", anchor="w", relief="sunken")
        place("status", self.status, 20, 590, 860, 30)

        place("list_label", tk.Label(r, text="Files", anchor="w"), 480, 60, 200, 24)
        frame = tk.Frame(r)
        place("list_frame", frame, 480, 86, 240, 250)
        self.listbox = tk.Listbox(frame, exportselection=False, activestyle="none")
        scroll = tk.Scrollbar(frame, orient="vertical", command=self.listbox.yview)
        self.listbox.config(yscrollcommand=lambda a, b: (scroll.set(a, b), self._list_moved()))
        self.listbox.place(x=0, y=0, width=220, height=250)
        scroll.place(x=220, y=0, width=20, height=250)
        for item in ITEMS:
            self.listbox.insert("end", item)
        self.listbox.bind("<<ListboxSelect>>", lambda e: self._list_select())
        self.w["list"] = self.listbox

        place("drag_label", tk.Label(r, text="Drag the square into the box", anchor="w"),
              20, 250, 400, 24)  # fmt: skip
        self.canvas = tk.Canvas(r, background="white", highlightthickness=1,
                                highlightbackground="gray40")  # fmt: skip
        place("canvas", self.canvas, 20, 280, 420, 180)
        self.canvas.create_rectangle(300, 40, 400, 140, outline="green", width=3, tags="target")
        self.canvas.create_rectangle(20, 60, 60, 100, fill="royal blue", outline="", tags="token")
        self.canvas.tag_bind("token", "<ButtonPress-1>", self._drag_start)
        self.canvas.tag_bind("token", "<B1-Motion>", self._drag_move)
        self.canvas.tag_bind("token", "<ButtonRelease-1>", self._drag_end)
        self.canvas.bind("<Button-3>", self._right_click)
        self._drag_from: tuple[int, int] | None = None
        self.root.bind("<Configure>", lambda e: self._geometry())

    # --- state ----------------------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        self.state.update(changes)
        self._write()

    def _write(self) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".demo-state-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.state, f, ensure_ascii=False, indent=1)
        os.replace(tmp, self.state_path)

    def _geometry(self) -> None:
        self.root.update_idletasks()
        boxes = {}
        for name, widget in self.w.items():
            if not widget.winfo_ismapped():
                continue
            boxes[name] = [widget.winfo_rootx(), widget.winfo_rooty(),
                           widget.winfo_width(), widget.winfo_height()]  # fmt: skip
        x0, y0 = self.canvas.winfo_rootx(), self.canvas.winfo_rooty()
        for tag in ("token", "target"):
            ax, ay, bx, by = (int(v) for v in self.canvas.coords(tag))
            boxes[tag] = [x0 + ax, y0 + ay, bx - ax, by - ay]
        boxes["window"] = [self.root.winfo_rootx(), self.root.winfo_rooty(),
                           self.root.winfo_width(), self.root.winfo_height()]  # fmt: skip
        top = self.listbox.nearest(0)
        rows = []
        for index in range(top, len(ITEMS)):
            bbox = self.listbox.bbox(index)
            if not bbox:
                break
            # the whole row: the listbox's width, the line's height
            rows.append([self.listbox.winfo_rootx(), self.listbox.winfo_rooty() + bbox[1],
                         self.listbox.winfo_width(), bbox[3] + 1])  # fmt: skip
        if rows:
            boxes["list_row"] = [rows[0][0] + 2, rows[0][1], 54, rows[0][3] - 1]
        boxes["list_rows"] = rows
        self.state["widgets"] = boxes
        self._write()

    def _ready(self) -> None:
        self._geometry()
        self._set(ready=True)

    # --- behaviour ------------------------------------------------------------------------

    def _status(self, text: str) -> None:
        self.status.config(text=text)
        self.state["status"] = text

    def _on_press(self, e: tk.Event) -> None:
        self.state["clicks"].append({"widget": self._name(e.widget), "button": e.num,
                                     "x": e.x_root, "y": e.y_root})  # fmt: skip
        self._write()

    def _on_double(self, e: tk.Event) -> None:
        if e.widget is self.listbox:
            index = self.listbox.nearest(e.y)
            self.state["opened"].append(ITEMS[index])
            self._status(f"Opened {ITEMS[index]}")
        self.state["clicks"].append({"widget": self._name(e.widget), "button": 1, "double": True,
                                     "x": e.x_root, "y": e.y_root})  # fmt: skip
        self._write()

    def _on_key(self, e: tk.Event) -> None:
        mods = [m for m, bit in (("ctrl", 0x4), ("shift", 0x1), ("alt", 0x8)) if e.state & bit]
        self.state["keys"].append({"keysym": e.keysym, "mods": mods})
        self._write()

    def _on_focus(self, e: tk.Event) -> None:
        self.state["focus"] = self._name(e.widget)
        self._write()

    def _name(self, widget: Any) -> str:
        for name, w in self.w.items():
            if w is widget:
                return name
        return str(widget)

    def _menu(self, what: str) -> None:
        self.state["menu"].append(what)
        self._status(f"Menu: {what}")
        self._write()

    def _save(self) -> None:
        self.state["saves"] += 1
        self._status(f"Saved ({self.state['saves']})")
        self._write()

    def _save_as(self) -> None:
        """Tk's own Save As dialog ("File name:" field, Save button) in the state file's folder."""
        from tkinter import filedialog

        path = filedialog.asksaveasfilename(parent=self.root, title="Save As",
                                            initialdir=str(self.state_path.parent))  # fmt: skip
        if path:
            Path(path).write_text(self.name_var.get())
            self.state["saved_as"] = path
            self._status(f"Saved as {Path(path).name}")
        self._write()

    def _submit(self) -> None:
        name = self.name_var.get().strip()
        if not name:
            self._error("Name is required.")
            return
        self.state["submitted"].append({"name": name, "email": self.email_var.get(),
                                        "subscribe": self.sub_var.get()})  # fmt: skip
        thanks = f"Thank you, {name}! Your form was submitted."
        if self.slow_marker is not None and not self.slow_marker.exists():
            self.slow_marker.touch()  # the first run is slow; every later one is not
            self._status("Sending...")
            self.root.after(4000, lambda: self._status(thanks))
        else:
            self._status(thanks)
        self._write()

    def _clear(self) -> None:
        self.name_var.set("")
        self.email_var.set("")
        self.sub_var.set(False)
        self._status("Cleared")
        self._set(subscribe=False)

    def _error(self, message: str) -> None:
        dlg = tk.Toplevel(self.root)
        dlg.title("Error")
        dlg.transient(self.root)  # a dialog of the main window (WM_TRANSIENT_FOR), as toolkits do
        dlg.geometry(f"360x150+{self.root.winfo_rootx() + 270}+{self.root.winfo_rooty() + 208}")
        tk.Label(dlg, text="Error", font=("DejaVu Sans", 13, "bold"), fg="red3").place(x=20, y=15)
        tk.Label(dlg, text=message, anchor="w").place(x=20, y=50, width=320, height=30)

        def close() -> None:
            dlg.destroy()
            self._set(dialog=None)

        ok = tk.Button(dlg, text="OK", command=close)
        ok.place(x=250, y=100, width=90, height=32)
        dlg.bind("<Return>", lambda e: close())
        dlg.update_idletasks()
        self.w["dialog_ok"] = ok
        self._status(f"Error: {message}")
        self._set(dialog={"title": "Error", "message": message,
                          "ok": [ok.winfo_rootx(), ok.winfo_rooty(), ok.winfo_width(), ok.winfo_height()]})  # fmt: skip

    def _check_updates(self) -> None:
        from tkinter import messagebox

        message = "Could not reach the update server: the connection timed out."
        self._set(dialog={"title": "Update failed", "message": message})
        messagebox.showerror("Update failed", message, parent=self.root)  # returns once closed
        self._set(dialog=None)

    def _refresh(self) -> None:
        self._status("Refreshing...")
        self._write()
        self.root.after(1500, self._show_report)

    def _show_report(self) -> None:
        self.report.place(x=760, y=140, width=120, height=36)
        self._status("Report is ready")
        self._geometry()

    def _open_report(self) -> None:
        self.state["reports"] += 1
        self._status("Report opened")
        self.root.after(1000, self._hide_report)
        self._write()

    def _hide_report(self) -> None:
        self.report.place_forget()
        self._geometry()

    def _list_select(self) -> None:
        sel = self.listbox.curselection()
        self._set(selected=ITEMS[sel[0]] if sel else None)

    def _list_moved(self) -> None:
        top = self.listbox.nearest(0)
        if top != self.state["list_top"]:
            self.state["list_top"] = top
            self._geometry()

    def _drag_start(self, e: tk.Event) -> None:
        self._drag_from = (e.x, e.y)

    def _drag_move(self, e: tk.Event) -> None:
        if self._drag_from is None:
            return
        dx, dy = e.x - self._drag_from[0], e.y - self._drag_from[1]
        self.canvas.move("token", dx, dy)
        self._drag_from = (e.x, e.y)

    def _drag_end(self, e: tk.Event) -> None:
        self._drag_move(e)
        self._drag_from = None
        ax, ay, bx, by = self.canvas.coords("token")
        cx, cy = (ax + bx) / 2, (ay + by) / 2
        tx0, ty0, tx1, ty1 = self.canvas.coords("target")
        inside = tx0 <= cx <= tx1 and ty0 <= cy <= ty1
        self.state["drops"].append({"x": e.x_root, "y": e.y_root, "in_target": inside})
        self.state["token"] = [int(cx), int(cy)]
        self._status("Dropped in the box" if inside else "Dropped outside the box")
        self._geometry()

    def _right_click(self, e: tk.Event) -> None:
        self._status(f"Right-clicked at {e.x}, {e.y}")
        self._write()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path,
                        help="JSON file to write the state to (default: one in a new temporary folder)")  # fmt: skip
    parser.add_argument("--slow-first-submit", type=Path, metavar="MARKER",
                        help="flaky by design: while MARKER does not exist, create it and answer Submit 4 s late")  # fmt: skip
    parser.add_argument("--font-family", help="font for every widget (for OCR benchmarks)")
    parser.add_argument("--font-size", type=int, help="font size in points")
    parser.add_argument(
        "--at", metavar="X,Y", help="put the window here instead of the top-left corner"
    )
    args = parser.parse_args()
    root = tk.Tk()
    if args.font_family or args.font_size:
        import tkinter.font as tkfont

        for name in ("TkDefaultFont", "TkTextFont", "TkMenuFont", "TkFixedFont"):
            font = tkfont.nametofont(name)
            if args.font_family:
                font.configure(family=args.font_family)
            if args.font_size:
                font.configure(size=args.font_size)
    at = tuple(int(v) for v in args.at.split(",")) if args.at else (0, 0)
    state = args.state or Path(tempfile.mkdtemp(prefix="demo-app-")) / "state.json"
    app = DemoApp(root, state.resolve(), at=(at[0], at[1]))
    app.slow_marker = args.slow_first_submit
    root.mainloop()


if __name__ == "__main__":
    main()
