"""Lab reports: one folder with every figure (PNG and SVG), every curve (CSV), the parameters (JSON),
the experiment file and a ``report.md`` that embeds the figures and lists the parameters."""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from pathlib import Path

import nnsim
from nnsim.experiment import Experiment, save
from nnsim.export import DEFAULT_SIZE, export_csv, export_params, export_png, export_svg


def _ascii(ch: str) -> str:
    """A readable ASCII stand-in for a character of a figure name: Greek letters by their names
    (φ → phi), primes, sub/superscript digits; anything else becomes a separator."""
    if ch.isascii():
        return ch
    name = unicodedata.name(ch, "")
    if name.startswith("GREEK") and "LETTER" in name:
        return f" {name.split()[-1].lower()} "
    if "PRIME" in name:
        return "prime"
    if ("SUBSCRIPT" in name or "SUPERSCRIPT" in name) and name.split()[-1] in _DIGITS:
        return str(_DIGITS.index(name.split()[-1]))
    return " "


_DIGITS = ("ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")


def slug(name: str) -> str:
    """File name for a figure: 'φ and φ′' → 'phi-and-phi-prime', 'Loss f(θ)' → 'loss-f-theta'."""
    text = "".join(_ascii(ch) for ch in name)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "figure"


def _value_text(fi, value) -> str:
    if fi.choices:
        return dict(fi.choices).get(value, str(value))
    if isinstance(value, float):
        return f"{value:g}" + (f" {fi.unit}" if fi.unit else "")
    return str(value) + (f" {fi.unit}" if fi.unit else "")


def write_report(panel, folder: str | Path, exp: Experiment, scale: int = 2) -> Path:
    """Write the lab report of ``panel`` (its run saved as ``exp``) into ``folder``; returns report.md."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    snap = panel.snapshot
    lines = [f"# nnsim lab report: {panel.title}", "",
             f"- Software: nnsim {nnsim.__version__}",
             f"- Date (UTC): {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}",
             f"- Panel: {panel.title} ({panel.key}): {panel.description}",
             f"- Seed: {exp.seed}; steps done: {exp.step_count}",
             f"- State: {snap.status}" + (f": {re.sub('<[^>]+>', '', snap.message)}" if snap.message else ""),
             f"- Regenerate: open `experiment.nnsim` in nnsim (File > Open experiment), or "
             f"`nnsim run experiment.nnsim --steps 0 --export DIR`", "", "## Figures", ""]
    panel.draw_all_views()  # (views on hidden tabs are not drawn while playing)
    for name, target in panel.figures().items():
        base = slug(name)
        # laid out at its own size (never the window's: a narrow window or a hidden tab cuts nothing)
        size = getattr(target, "export_size", DEFAULT_SIZE)
        export_png(target, folder / f"{base}.png", scale=scale, size=size)
        links = [f"[PNG]({base}.png)"]
        try:
            export_svg(target, folder / f"{base}.svg", size=size)
            links.append(f"[SVG]({base}.svg)")
        except TypeError:
            pass
        try:
            if export_csv(target, folder / f"{base}.csv"):
                links.append(f"[CSV]({base}.csv)")
            else:  # a picture without plotted series (unit mosaic, table): no empty CSV beside it
                (folder / f"{base}.csv").unlink(missing_ok=True)
        except TypeError:
            pass
        lines += [f"### {name}", "", f"![{name}]({base}.png)", "", " · ".join(links), ""]
    export_png(panel, folder / "panel.png", scale=1)
    lines += ["### The whole panel", "", "![The whole panel](panel.png)", "", "## Parameters", "",
              "| parameter | value | name in the file |", "|---|---|---|"]
    for fi in panel.params.fields_info():
        lines.append(f"| {fi.label} | {_value_text(fi, getattr(panel.params, fi.name))} | `{fi.name}` |")
    export_params(folder / "parameters.json", panel=panel.key, params=panel.params.to_dict(), seed=exp.seed,
                  step_count=exp.step_count)
    save(folder / "experiment.nnsim", exp)
    lines += ["", "Files: `parameters.json` (every parameter), `experiment.nnsim` (the run, to reopen)."]
    report = folder / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report
