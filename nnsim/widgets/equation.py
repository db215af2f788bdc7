"""Rich-text "equation views": the update a rule just made, with its actual numbers."""

from __future__ import annotations

import numpy as np

from nnsim.widgets.plots import theme

_NUM = "font-family: 'DejaVu Sans Mono', monospace;"


def vec(v, digits: int = 3) -> str:
    return "[" + ", ".join(f"{float(x):.{digits}f}" for x in np.ravel(v)) + "]"


def perceptron_update_html(snap) -> str:
    """The perceptron rule w ← w + η (t − y) x applied to the last presented sample, with numbers."""
    last = snap.last
    if last is None:
        w = snap.weights
        rows = "".join(f"<tr><td>neuron {k}</td><td style=\"{_NUM}\">w = {vec(w[k])}</td></tr>"
                       for k in range(w.shape[0]))
        th = theme()
        return ("<p>No sample presented yet. Press <b>Step</b> to present one.</p>"
                f"<table cellspacing=4>{rows}</table>"
                f"<p style='color:{th.muted}'>Rule: y = 1 if w·x &gt; 0 else 0, with x = [−1, x₁, x₂] "
                "(w₀ is the bias weight); on an error, w ← w + η (t − y) x.</p>")
    th = theme()
    eps = np.asarray(last.t, dtype=float) - np.asarray(last.y, dtype=float)
    n_out = len(eps)
    digits = 3 if n_out <= 2 else 2
    epoch = f", epoch {snap.epoch + 1 if snap.pos_in_epoch else snap.epoch}" if hasattr(snap, "epoch") else ""
    head = (f"<p><b>Presentation {snap.step_count}{epoch}:</b> sample {last.index}, "
            f"x = <span style=\"{_NUM}\">{vec(last.x)}</span>, η = {last.lr:g}</p>")
    actions = {1: f"<b style='color:{th.good}'>ADD</b> η·x", -1: f"<b style='color:{th.bad}'>SUBTRACT</b> η·x",
               0: f"<span style='color:{th.muted}'>do nothing</span>"}
    cols = [f"<th>neuron {k}</th>" for k in range(n_out)] if n_out > 1 else ["<th></th>"]
    rows = [("w (before)", lambda k: f"<span style=\"{_NUM}\">{vec(last.w_before[k], digits)}</span>"),
            ("w·x", lambda k: f"<span style=\"{_NUM}\">{float(last.net[k]):.{digits}f}</span>"),
            ("y = [w·x &gt; 0]", lambda k: f"{int(last.y[k])}"),
            ("target t", lambda k: f"{int(last.t[k])}"),
            ("ε = t − y", lambda k: f"{int(round(eps[k])):+d}"),
            ("action", lambda k: actions[int(round(eps[k]))]),
            ("w (after)", lambda k: f"<b style=\"{_NUM}\">{vec(last.w_after[k], digits)}</b>")]
    body = [f"<tr style='background:{th.head_bg}'><th></th>" + "".join(cols) + "</tr>"]
    for label, cell in rows:
        body.append(f"<tr><td><i>{label}</i></td>" + "".join(f"<td>{cell(k)}</td>" for k in range(n_out)) + "</tr>")
    verdict = ("The weights changed: the boundary turns towards a missed positive sample or away "
               "from a wrong positive one." if last.updated else
               "Correct output: the weights stay as they are.")
    return (head + f"<table cellspacing=0 cellpadding=4 border=1 style='border-color:{th.border}'>" + "".join(body)
            + "</table>" + f"<p>{verdict}</p>"
            f"<p style='color:{th.muted}'>y = 1 if w·x &gt; 0 else 0; &nbsp; w ← w + η (t − y) x; "
            "x = [x₀, x₁, x₂] with x₀ = −1 carrying the bias weight w₀ (x₀ = 0 when the bias is off).</p>")


def confusion_html(matrix: np.ndarray, cols: list[str]) -> str:
    """Accuracy and the confusion matrix (rows: true class, columns: predicted)."""
    th = theme()
    total = int(matrix.sum())
    correct = int(sum(matrix[i, i] for i in range(min(matrix.shape))))
    acc = f"{100.0 * correct / total:.1f} % ({correct}/{total})" if total else "—"
    head = "".join(f"<th>{c}</th>" for c in cols)
    rows = "".join(
        f"<tr><th>{i}</th>" + "".join(
            f"<td align=center style='{f'background:{th.good_bg}' if i == j else (f'background:{th.bad_bg}' if v else '')}'>{v}</td>"
            for j, v in enumerate(r)) + "</tr>" for i, r in enumerate(matrix))
    return (f"<p><b>Accuracy on the training data:</b> {acc}</p>"
            f"<table cellspacing=0 cellpadding=3 border=1 style='border-color:{th.border}'>"
            f"<tr style='background:{th.head_bg}'><th>true \\ predicted</th>{head}</tr>{rows}</table>")
