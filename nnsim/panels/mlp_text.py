"""Rich text of the MLP panel: the runs table, the chain rule for one weight with its numbers, the
gradient-check report and the collapsed affine map of a linear network. Pure functions of a
snapshot (no widgets), so they are easy to test. Colours come from the current theme
(:func:`nnsim.widgets.plots.theme`), read when the text is made: the panel makes it again on a theme
change. Run colours appear only on swatches (■), never on words."""

from __future__ import annotations

import math

import numpy as np

from nnsim.engine import activations as act
from nnsim.panels.mlp_views import run_color
from nnsim.widgets.plots import theme

_NUM = "font-family: 'DejaVu Sans Mono', monospace;"
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def num(v: float, digits: int = 4) -> str:
    """A number with ``digits`` significant digits and a real minus sign."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{float(v):.{digits}g}".replace("-", "−").replace("e−0", "e−").replace("e+0", "e")


def pct(v: float) -> str:
    return "—" if not np.isfinite(v) else f"{100 * v:.1f} %"


def _bad() -> str:
    """Text colour meaning "wrong / diverged" in the current theme (≥ 4.5:1 on its background)."""
    return theme().bad


def _good() -> str:
    return theme().good


def _head() -> str:
    """Style of a table's header row."""
    return f"background:{theme().head_bg}"


def _table(padding: int) -> str:
    return f"<table cellspacing=0 cellpadding={padding} border=1 style='border-color:{theme().border}'>"


def state_text(r) -> str:
    if r.state == "diverged":
        return f"<b style='color:{_bad()}'>diverged at {r.diverged_at}</b>"
    if r.state == "stopped":
        return f"<b>stopped at {r.stopped_at}</b> (best {r.best_step})"
    return "running"


def runs_table_html(snap) -> str:
    rows = [f"<tr style='{_head()}'><th>run</th><th>η</th><th>state</th><th>train loss</th>"
            "<th>test loss</th><th>train acc.</th><th>test acc.</th></tr>"]
    for r in snap.runs:
        c = run_color(r.index - 1)
        rows.append(f"<tr><td><b style='color:{c}'>■</b> {r.index}</td><td>{num(r.lr)}</td>"
                    f"<td>{state_text(r)}</td><td>{num(r.train_loss_now)}</td><td>{num(r.test_loss_now)}</td>"
                    f"<td><b>{pct(r.train_acc_now)}</b></td><td><b>{pct(r.test_acc_now)}</b></td></tr>")
    net = " × ".join(str(s) for s in snap.sizes)
    batch = "full batch" if snap.batch >= len(snap.X_train) else f"batch {snap.batch}"
    text = (f"<p>Network {net}, hidden {act.LABELS[snap.hidden]}, output {snap.output} with "
            f"{'cross-entropy' if snap.loss == 'cross_entropy' else '½Σ(y − ŷ)²'}; {snap.optimizer}, "
            f"{batch}; {len(snap.X_train)} training and {len(snap.X_test)} test points. Every run "
            "started from the same weights and saw the same batches; only η differs.</p>")
    table = _table(4) + "".join(rows) + "</table>"
    return text + table + affine_html(snap)


def affine_html(snap) -> str:
    """For linear hidden units: the network collapsed into one affine map."""
    if snap.affine is None:
        return ""
    W, b = snap.affine
    cols = W.shape[1]
    wt = "; ".join("[" + ", ".join(num(v, 3) for v in W[:, j]) + "]" for j in range(cols))
    layers = len(snap.sizes) - 1
    prod = " ".join(f"W{k}".translate(_SUB) for k in range(1, layers + 1))
    return (f"<p><b>Linear hidden units:</b> the {layers} layers of run {snap.inspect} are one affine map, "
            f"z_out = x W + b with W = {prod} (columns <span style=\"{_NUM}\">{wt}</span>) and "
            f"b = <span style=\"{_NUM}\">[{', '.join(num(v, 3) for v in b)}]</span>. However many linear "
            "layers are stacked, every decision boundary stays a straight line.</p>")


def sub(v) -> str:
    return str(v).translate(_SUB)


def sup(v) -> str:
    return str(v).translate(_SUP)


def explanation_html(snap) -> str:
    e = snap.explanation
    if e is None:
        return "<p>No training points.</p>"
    l, i, j, n = e.layer, e.i, e.j, e.sample
    src = "inputs" if l == 1 else f"hidden layer {l - 1}"
    dst = "output layer" if e.is_output else f"hidden layer {l}"
    a_name = f"x{sub(i)}" if l == 1 else f"a{sub(i)}⁽{sup(l - 1)}⁾"
    z_name = f"z{sub(j)}⁽{sup(l)}⁾"
    d_name = f"δ{sub(j)}⁽{sup(l)}⁾"
    w_name = f"W⁽{sup(l)}⁾[{i}, {j}]"
    out = [f"<p><b>∂J/∂w for w = {w_name} = {num(e.w)}</b>: from unit {i} of the {src} to unit {j} of the "
           f"{dst} (the course writes w{sub(j)}{sub(i)}⁽{sup(l)}⁾). Run {e.run} (η = {num(e.lr)}), step "
           f"{snap.step_count}. Click a line of the network diagram to choose another weight.</p>",
           f"<p><b>Sample n = {n}</b> of the m = {e.m} training points:</p><p style=\"{_NUM}\">"]

    def row(label, value=""):
        out.append(f"{label} {value}<br>")

    row(f"{a_name} =", num(e.a_i) + ("  (the input itself)" if l == 1 else f"  (φ of unit {i}'s net input)"))
    row(f"{z_name} = Σᵢ aᵢ W⁽{sup(l)}⁾[i, {j}] + b{sub(j)} =", num(e.z_j))
    yh, y = f"ŷ{sub(j)}", f"y{sub(j)}"
    ind = "&nbsp;&nbsp;&nbsp;&nbsp;"
    if e.is_output:
        if e.loss == "cross_entropy":
            row(f"{d_name} = {yh} − {y} =", f"{num(e.y_hat)} − {num(e.y, 3)} = <b>{num(e.delta_j)}</b>")
        elif e.output == "sigmoid":
            row(f"{d_name} = ({yh} − {y}) {yh}(1 − {yh})")
            row(ind + "=", f"({num(e.y_hat)} − {num(e.y, 3)}) × {num(e.phi_prime)} = <b>{num(e.delta_j)}</b>")
        else:
            row(f"{d_name} = Σₖ (ŷₖ − yₖ) ∂ŷₖ/∂z{sub(j)} =", f"<b>{num(e.delta_j)}</b>")
    else:
        terms = " + ".join(f"({num(w, 3)})({num(d, 3)})" for _, w, d in e.terms)
        more = f" + … ({e.n_terms - len(e.terms)} smaller)" if e.n_terms > len(e.terms) else ""
        deriv = "φ′" if not e.bug else f"φ′<span style='color:{_bad()}'>(buggy)</span>"
        row(f"{d_name} = {deriv}({z_name}) · Σₖ W⁽{sup(l + 1)}⁾[{j}, k] δₖ⁽{sup(l + 1)}⁾")
        row(ind + "=", f"{num(e.phi_prime)} × ({terms}{more})")
        row(ind + "=", f"{num(e.phi_prime)} × {num(e.terms_sum)} = <b>{num(e.delta_j)}</b>")
    row(f"∂ℓₙ/∂w = {a_name} · {d_name} =", f"{num(e.a_i)} × {num(e.delta_j)} = <b>{num(e.grad_sample)}</b>")
    out.append("</p>")
    out.append(f"<p><b>Mean over the m = {e.m} samples:</b> ∂J/∂w = (1/m) Σₙ aᵢ δⱼ = "
               f"<b style=\"{_NUM}\">{num(e.grad_mean)}</b>")
    if e.penalty != 0:
        out.append(f" &nbsp;+ penalty λ₂w + λ₁ sign w = {num(e.penalty)} &nbsp;→ <b>{num(e.grad_total)}</b>")
    rel = abs(e.grad_total - e.numeric) / max(abs(e.grad_total) + abs(e.numeric), 1e-12)
    out.append(f"</p><p>Check: (J(w + h) − J(w − h)) / 2h = <span style=\"{_NUM}\">{num(e.numeric, 6)}</span> "
               f"(relative difference {num(rel, 2)}).</p>")
    if snap.optimizer == "sgd":
        out.append(f"<p>SGD step: Δw = −η ∂J/∂w = −{num(e.lr)} × {num(e.grad_total)} = "
                   f"<b>{num(-e.lr * e.grad_total)}</b> (the course article's W ← W + η ∂J/∂W with η &lt; 0 "
                   "is the same step).</p>")
    else:
        out.append(f"<p>The {snap.optimizer} rule turns this gradient into the step (see the optimizer panel).</p>")
    if snap.batch < len(snap.X_train):
        out.append(f"<p style='color:{theme().muted}'>Training uses mini-batches: each step averages over "
                   "its batch instead of all m samples; the chain rule is the same.</p>")
    if e.bug:
        out.append(f"<p style='color:{_bad()}'>The backprop bug is on: φ′ uses slope 0 for z &lt; 0 while "
                   "the forward pass uses the leaky slope, so backprop and the centred difference disagree.</p>")
    return "".join(out)


def gradcheck_html(snap) -> str:
    rep = snap.gradcheck
    intro = ("<p>Compares backprop's gradient with centred differences (J(θ + h eᵢ) − J(θ − h eᵢ)) / 2h on "
             "the whole training set (loss + penalties, no dropout). Per block: relative error "
             "max|g − g_num| / max(|g| + |g_num|, tiny); below 1e−7 it passes.</p>")
    if rep is None:
        return intro + "<p><i>Press <b>Check gradients now</b>.</i></p>" + kink_note_html()
    ok = rep.passed
    good, bad = _good(), _bad()
    verdict = (f"<b style='color:{good}'>PASSED</b>" if ok else f"<b style='color:{bad}'>FAILED</b>")
    head = (f"<p>{verdict}: run {rep.run} (η = {num(rep.lr)}) at step {rep.step}, h = {num(rep.h, 2)}, "
            f"m = {rep.m} samples.{' (stale: training moved on)' if rep.step != snap.step_count else ''}</p>")
    rows = [f"<tr style='{_head()}'><th>block</th><th>rel. error</th><th>worst entry: g vs g_num</th>"
            "<th>fails</th><th></th></tr>"]
    for b in rep.blocks:
        if b.below_noise:
            mark = f"<b style='color:{good}'>pass</b> (≈ 0)"
        else:
            mark = f"<b style='color:{good}'>pass</b>" if b.passed else f"<b style='color:{bad}'>FAIL</b>"
        idx = ", ".join(str(v + 1) for v in b.worst_index)
        checked = "" if b.n_checked == b.n_total else f" ({b.n_checked} of {b.n_total} checked)"
        rows.append(f"<tr><td>{b.name} ({' × '.join(map(str, b.shape))}){checked}</td>"
                    f"<td style=\"{_NUM}\">{num(b.rel_error, 2)}</td>"
                    f"<td style=\"{_NUM}\">[{idx}] {num(b.worst_g, 4)} vs {num(b.worst_g_num, 4)}</td>"
                    f"<td>{b.n_entries_failing}</td><td>{mark}</td></tr>")
    table = _table(3) + "".join(rows) + "</table>"
    notes = []
    if rep.bug:
        notes.append(f"<p style='color:{bad}'><b>Backprop bug on:</b> the leaky ReLU's derivative is taken as "
                     "0 for z &lt; 0 (the course code 004) while the forward pass uses the slope. Every weight "
                     "upstream of a unit with z &lt; 0 gets a wrong gradient, whatever h: that is what a failed "
                     "check looks like.</p>")
    if rep.near_kink:
        parts = ", ".join(f"hidden layer {k + 1}: {c} of {n}" for k, (c, n) in enumerate(zip(rep.near_kink, rep.n_pre)))
        notes.append(f"<p>Pre-activations within 10·h·max|a| of a kink: {parts}.</p>")
    return intro + head + table + "".join(notes) + kink_note_html()


def kink_note_html() -> str:
    return (f"<p style='color:{theme().muted}'><b>Why ReLU kinks can make single entries fail.</b> ReLU (and leaky "
            "ReLU, ReLU6) has no derivative at z = 0; backprop uses the one-sided value (0 for ReLU). If a "
            "unit's net input z lies within about h·|a| of 0, J(θ + h eᵢ) and J(θ − h eᵢ) fall on "
            "different sides of the kink and their difference averages the two slopes, so that entry "
            "disagrees although backprop is right. Exactly z = 0 happens easily: zero biases at the start "
            "and the input (0, 0) of the XOR table. A smooth activation, another h or another point makes "
            "such entries pass; a real bug fails whatever h. Near a minimum the gradients are tiny and "
            "the rounding error of J(θ ± h), about 1e−16·|J|/h, can approach 1e−7 of them: a larger h "
            "helps there.</p>")


def activation_title(hidden: str) -> str:
    f, d = act.FORMULAS[hidden]
    extra = " (λ = 1.0507, α = 1.6733: the standard values)" if hidden == "selu" else ""
    return f"{act.LABELS[hidden]}: {f}; {d}{extra}"
