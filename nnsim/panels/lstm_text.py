"""Rich-text views of the LSTM panel: the lecture's four steps with the actual numbers at the time
cursor for the followed units, and the lecture's own examples ("James", sparse output).

Every number shown comes from the snapshot or from :mod:`nnsim.engine.recurrent` (``four_steps``,
``gated_output``); these functions only format.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtGui import QColor

from nnsim.engine.recurrent import JAMES, SPARSE_OUTPUT, SPARSE_OUTPUT_PRINTED, four_steps, gated_output
from nnsim.widgets.plots import contrast_ratio, theme

_NUM = "font-family: 'DejaVu Sans Mono', monospace;"
GATE_RGB = (0, 158, 115)   # gates shaded by value in the Okabe–Ito green


def _table() -> str:
    """A table in the theme's colours (tables are written again when the theme changes)."""
    return (f"<table cellspacing=0 cellpadding=2 border=1 style='border-color:{theme().border}; "
            "border-collapse:collapse'>")


def _head_row() -> str:
    th = theme()
    return f"<tr style='background:{th.head_bg}; color:{th.fg}'>"


def _note(text: str, margin: str = "2px") -> str:
    """A footnote in the theme's secondary text colour (≥ 4.5:1 on the table background)."""
    return f"<p style='color:{theme().muted}; margin:{margin}'>{text}</p>"

S = "<sub>t</sub>"
S1 = "<sub>t−1</sub>"

#: rows of the step table per cell kind: (array name, label, style) with style "gate" (shaded by
#: its value 0 … 1), "result" (bold) or "" (plain)
ROWS = {
    "lstm": (
        ("c_prev", f"C{S1} old cell state", ""),
        ("f", f"f{S} forget gate", "gate"),
        ("fc", f"① f{S}·C{S1} kept", "result"),
        ("g", f"C̃{S} update values", ""),
        ("i", f"i{S} input gate", "gate"),
        ("ig", f"② i{S}·C̃{S} written", "result"),
        ("c", f"③ C{S} = ① + ②", "result"),
        ("o", f"o{S} output gate", "gate"),
        ("tanh_c", f"tanh C{S}", ""),
        ("h", f"④ h{S} = o{S}·tanh C{S}", "result"),
    ),
    "gru": (
        ("h_prev", f"h{S1} old state", ""),
        ("r", f"r{S} reset gate", "gate"),
        ("rh", f"r{S}·h{S1}", "result"),
        ("g", f"h̃{S} candidate", ""),
        ("z", f"z{S} update gate", "gate"),
        ("keep", f"(1 − z{S})·h{S1} kept", "result"),
        ("zg", f"z{S}·h̃{S} written", "result"),
        ("h", f"h{S} = sum (the output)", "result"),
    ),
    "rnn": (
        ("h_prev", f"h{S1} old state", ""),
        ("a", f"a{S} = W[h{S1}, x{S}] + b", ""),
        ("h", f"h{S} = tanh a{S} (the output)", "result"),
    ),
}

FOOTNOTES = {
    "lstm": f"(i, f, o, C̃) = (σ, σ, σ, tanh)(W [h{S1}, x{S}] + b): one product with the stacked "
            "W = [W<sub>i</sub>; W<sub>f</sub>; W<sub>o</sub>; W<sub>C</sub>] gives all four "
            "small nets' inputs. Gates shaded by value: 0 blocks, 1 passes.",
    "peephole": f"Peepholes: i and f also see p·C{S1}, o sees p·C{S} (one weight per unit).",
    "coupled": f"Coupled gates: i{S} = 1 − f{S}, so C{S} = f{S}·C{S1} + (1 − f{S})·C̃{S}.",
    "gru": f"r, z = σ(W [h{S1}, x{S}] + b), h̃ = tanh(W [r{S}·h{S1}, x{S}] + b), "
           f"h{S} = (1 − z{S})·h{S1} + z{S}·h̃{S}.",
    "rnn": f"Backprop from h{S} to h{S1} multiplies by W<sub>hh</sub><sup>T</sup> and tanh′ at "
           "every step: the gradient vanishes or explodes over long sequences.",
}


def kind_of(cell: str) -> str:
    return "rnn" if cell == "rnn" else ("gru" if cell == "gru" else "lstm")


def _num(v: float, digits: int = 3) -> str:
    if not np.isfinite(v):
        return "nan" if np.isnan(v) else ("∞" if v > 0 else "−∞")
    if round(v, digits) == 0:
        v = 0.0          # no "−0.00"
    s = f"{v:.{digits}f}"
    return s.replace("-", "−")


def _gate_style(v: float) -> str:
    if not np.isfinite(v):
        return ""
    a = min(max(v, 0.0), 1.0)
    th = theme()
    alpha = 0.12 + 0.55 * a
    # the shade over the table's background, never so strong that the number loses contrast
    while alpha > 0.05 and contrast_ratio(th.fg, _shade(th.base, alpha)) < 4.5:
        alpha -= 0.05
    return f"background: {_shade(th.base, alpha)};"


def _shade(base: str, alpha: float) -> str:
    """GATE_RGB at ``alpha`` over ``base``, as an opaque colour."""
    b = QColor(base)
    mix = [round(g * alpha + c * (1 - alpha)) for g, c in zip(GATE_RGB, (b.red(), b.green(), b.blue()))]
    return QColor(*mix).name()


def _vec(v, digits=2) -> str:
    return "[" + ", ".join(_num(float(x), digits) for x in np.ravel(v)) + "]"


def _input_line(snap, t: int) -> str:
    x = snap.x[t]
    parts = [f"<b>t = {t}</b> of {len(snap.x) - 1}"]
    if snap.tokens is not None:
        tok = snap.tokens[t]
        parts.append(f"input <b style=\"{_NUM}\">'{html.escape(tok)}'</b>")
    else:
        names = ", ".join(f"{html.escape(n)} {_num(float(v), 2)}" for n, v in zip(snap.input_names, x))
        parts.append(f"input x{S}: {names}")
    if snap.mask[t]:
        if snap.labels is not None:
            lab = int(snap.labels[t])
            pred = int(np.argmax(snap.y[t]))
            ok = "✓" if pred == lab else "✗"
            parts.append(f"target <b>{html.escape(snap.output_names[lab])}</b>, the network says "
                         f"<b>{html.escape(snap.output_names[pred])}</b> "
                         f"({100 * snap.y[t][pred]:.0f} %) {ok}")
        else:
            parts.append(f"target {_vec(snap.target[t])}, output y{S} = {_vec(snap.y[t])}")
    else:
        parts.append(f"output y{S} = " + (_vec(snap.y[t]) if snap.labels is None else
                                           html.escape(snap.output_names[int(np.argmax(snap.y[t]))]))
                     + " (no target here)")
    return " · ".join(parts)


def step_table(snap, t: int, units: list[int]) -> str:
    """The cell's steps at time ``t`` for ``units`` (columns), with the snapshot's numbers."""
    kind = kind_of(snap.cell)
    arrays = snap.arrays
    T, H = arrays["h"].shape
    t = min(max(int(t), 0), T - 1)
    units = [u for u in units if 0 <= u < H] or [0]
    head = _head_row() + "<th align=left>step</th>" + "".join(
        f"<th>unit {u}</th>" for u in units) + "</tr>"
    body = []
    for key, label, style in ROWS[kind]:
        if key == "i" and snap.cell == "coupled":
            label = f"i{S} = 1 − f{S} (coupled)"
        cells = []
        for u in units:
            v = float(arrays[key][t, u])
            css = _NUM + (_gate_style(v) if style == "gate" else "")
            txt = _num(v)
            cells.append(f"<td align=right style=\"{css}\">"
                         + (f"<b>{txt}</b>" if style == "result" else txt) + "</td>")
        lab = f"<b>{label}</b>" if style == "result" else label
        body.append(f"<tr><td>{lab}</td>{''.join(cells)}</tr>")
    notes = [FOOTNOTES[kind]]
    if snap.cell in ("peephole", "coupled"):
        notes.append(FOOTNOTES[snap.cell])
    return (f"<p style='margin:0'>{_input_line(snap, t)}</p>" + _table() + head + "".join(body)
            + "</table>" + "".join(_note(n) for n in notes))


def james_table() -> str:
    """The lecture's "James" example computed by the engine's :func:`four_steps`."""
    s = four_steps(**JAMES)
    rows = ((f"C{S1}", JAMES["c_prev"], ""), (f"f{S}", JAMES["f"], "gate"),
            (f"① f{S}·C{S1}", s["forget"], "result"), (f"C̃{S}", JAMES["g"], ""),
            (f"i{S}", JAMES["i"], "gate"), (f"② i{S}·C̃{S}", s["input"], "result"),
            (f"③ C{S} = ① + ②", s["c"], "result"))
    head = _head_row() + "<th align=left>step</th><th>c1 (gender)</th><th>c2 (weather)</th></tr>"
    body = ""
    for lab, vals, style in rows:
        cells = ""
        for v in vals:
            css = _NUM + (_gate_style(float(v)) if style == "gate" else "")
            txt = _num(float(v), 2)
            cells += f"<td align=right style=\"{css}\">" + (f"<b>{txt}</b>" if style == "result" else txt) + "</td>"
        body += f"<tr><td>{'<b>' + lab + '</b>' if style == 'result' else lab}</td>{cells}</tr>"
    return ("<p style='margin:0'><b>The lecture's example</b> (“James”): the cell state holds c1, "
            "the subject's gender (probability of male; James: −0.5), and c2, the weather. A new "
            "subject arrives.</p>" + _table() + head + body + "</table>"
            + _note("f = 0.1 nearly erases c1, f = 1 keeps c2 (“not to forget c2”); i = 0.8 writes "
                    "0.8·0.9 = 0.72 into c1, i = 0 leaves c2 (“not to modify c2”). Computed with the "
                    f"panel's formula: C{S} = {_vec(s['c'])}, as on the slide."))


def sparse_table() -> str:
    """The lecture's sparse-output example: h = o·tanh C, one row per unit (a narrow column holds
    it); enabled entries (o ≥ 0.5) in bold red, disabled ones in grey, in the theme's colours."""
    o = np.asarray(SPARSE_OUTPUT["o"])
    tc = np.asarray(SPARSE_OUTPUT["tanh_c"])
    h = gated_output(o, tc)
    th = theme()
    head = (_head_row() + "<th>unit</th><th>tanh C<sub>t</sub></th><th>o<sub>t</sub></th>"
            "<th>h<sub>t</sub></th></tr>")
    body = ""
    for k in range(len(o)):
        on = o[k] >= 0.5
        color = th.bad if on else th.muted
        cells = ""
        for v, digits in ((tc[k], 2), (o[k], 2), (h[k], 3)):
            txt = _num(float(v), digits)
            cells += f"<td align=right style=\"{_NUM} color:{color}\">" + (f"<b>{txt}</b>" if on else txt) + "</td>"
        body += f"<tr><td align=right>{k + 1}</td>{cells}</tr>"
    printed = SPARSE_OUTPUT_PRINTED[-1]
    return ("<p><b>The lecture's sparse output</b> (11 units): h<sub>t</sub> = o<sub>t</sub>·tanh "
            "C<sub>t</sub>. Enabled entries (o ≥ 0.5) in red; disabled ones (grey) still appear, "
            "but with reduced values.</p>" + _table() + head + body + "</table>"
            + _note(f"Note: the slide prints the last entry as {printed}; "
                    f"{o[-1]:g} × {tc[-1]:g} = {h[-1]:.2f}.", "4px 2px"))
