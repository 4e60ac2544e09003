// The explain panel: one sample's backpropagation step, every number from chainrule.trace_step,
// each formula with the numbers put in.
import { escape } from "./boundary.js";

const MAX_UNITS = 16, MAX_TERMS = 6;
const f = (v) => Number(v).toPrecision(6);
const s = (v) => Number(v).toPrecision(4);
const num = (v, key, big) => `<span class="num${big ? " big" : ""}" data-key="${key}" title="${v}">${f(v)}</span>`;
const paren = (v) => (v < 0 ? `(${s(v)})` : s(v));

function derivative(activation, a) {
  if (activation === "sigmoid") return { text: `${paren(a)}×(1−${paren(a)})`, value: a * (1 - a) };
  if (activation === "tanh") return { text: `(1−${paren(a)}²)`, value: 1 - a * a };
  if (activation === "relu") return { text: `[${paren(a)}>0]`, value: a > 0 ? 1 : 0 };
  if (activation === "leaky_relu") return { text: `[${paren(a)}>0 or α]`, value: a > 0 ? 1 : 0.01 };
  if (activation === "identity") return { text: "1", value: 1 };
  return { text: `${activation}′`, value: NaN };
}

function lossGradient(name, a, y, size, n) {
  const d = `(${s(a)} − ${s(y)})`;
  return ({
    mse: `2×${d}/${size}`, half_mse: `${d}/${size}`, sse: `2×${d}`, half_sse: d, mae: `sign${d}/${size}`,
    binary_crossentropy: `${d}/(${s(a)}×(1−${s(a)}))/${size}`, categorical_crossentropy: `−${s(y)}/${s(a)}/${n}`,
  })[name] || "dLoss/da";
}

function sum(terms, total) {
  const shown = terms.slice(0, MAX_TERMS).join(" + ");
  return terms.length > MAX_TERMS ? `${shown} + … (${terms.length - MAX_TERMS} more)` : shown;
}

function more(n) { return n > MAX_UNITS ? `<p class="note">The first ${MAX_UNITS} of ${n} units are shown.</p>` : ""; }

function forward(t) {
  const rows = t.layers.map((L) => {
    const units = L.z[0].length, last = L.number === t.layers.length;
    const body = L.z[0].slice(0, MAX_UNITS).map((z, j) => {
      const terms = L.input[0].map((a, i) => `${paren(a)}×${paren(L.W[i][j])}`);
      const bias = L.b ? ` + ${paren(L.b[j])}` : "";
      return `<tr><td>${j}</td><td class="formula">${sum(terms)}${bias}</td><td>${num(z, `z${L.number}[0,${j}]`)}</td>`
        + `<td>${num(L.output[0][j], `a${L.number}[0,${j}]`)}</td></tr>`;
    }).join("");
    const inputs = L.input[0].slice(0, MAX_UNITS).map((a, i) => `a${L.number - 1}[${i}] = ${num(a, `input${L.number}[0,${i}]`)}`).join(", ");
    return `<h4>Layer ${L.number} (${last ? "output" : "hidden"}, ${L.activation})</h4><p>input: ${inputs}</p>`
      + `<table><tr><th>unit j</th><th>z = Σ a<sub>i</sub>×W[i,j] + b<sub>j</sub></th><th>z</th><th>a = ${L.activation}(z)</th></tr>${body}</table>${more(units)}`;
  });
  return `<h3>Forward pass</h3>${rows.join("")}`;
}

function errorTable(t) {
  const body = t.output[0].slice(0, MAX_UNITS).map((a, j) => `<tr><td>${j}</td><td>${num(t.y[0][j], `y[0,${j}]`)}</td>`
    + `<td>${num(a, `output[0,${j}]`)}</td><td>${num(t.error[0][j], `error[0,${j}]`)}</td></tr>`).join("");
  return `<h3>Output error and loss</h3><table><tr><th>unit</th><th>target y</th><th>output a</th><th>error y − a</th></tr>${body}</table>`
    + `<p>loss (${escape(t.loss_name)}) = ${num(t.loss, "loss", true)}</p>`;
}

function outputDelta(t, L, j) {
  const a = L.output[0][j], y = t.y[0][j], n = t.X.length, size = n * L.output[0].length;
  if (t.fused) return `(a − y)/n = (${s(a)} − ${s(y)})/${n}   (fused ${L.activation} + ${t.loss_name})`;
  const g = lossGradient(t.loss_name, a, y, size, n), d = derivative(L.activation, a);
  return `dLoss/da × ${L.activation}′ = ${g} × ${d.text}`;
}

function hiddenDelta(t, L, j) {
  const next = t.layers[L.number], a = L.output[0][j];
  const terms = next.delta[0].map((d, k) => `${paren(d)}×${paren(next.W[j][k])}`);
  const seen = next.input[0][j], mask = a !== 0 && Math.abs(seen / a - 1) > 1e-12 ? ` × mask ${s(seen / a)}` : "";
  return `(${sum(terms)})${mask} × ${derivative(L.activation, a).text}`;
}

function backward(t) {
  const rows = [...t.layers].reverse().map((L) => {
    const last = L.number === t.layers.length;
    const body = L.delta[0].slice(0, MAX_UNITS).map((d, j) => `<tr><td>${j}</td>`
      + `<td class="formula">${last ? outputDelta(t, L, j) : hiddenDelta(t, L, j)}</td><td>${num(d, `delta${L.number}[0,${j}]`)}</td></tr>`).join("");
    const what = last ? "the output error term" : `δ${L.number + 1} @ W${L.number + 1}ᵀ times the slope`;
    return `<h4>δ${L.number}: ${what}</h4><table><tr><th>unit j</th><th>formula</th><th>δ</th></tr>${body}</table>${more(L.delta[0].length)}`;
  });
  return `<h3>Backward pass (δ = dLoss/dz; the tutorials' error term is −δ)</h3>${rows.join("")}`;
}

function changes(t) {
  const blocks = t.layers.map((L) => {
    const dW = L.changes.W, cols = Math.min(MAX_UNITS, dW[0].length);
    const head = Array.from({ length: cols }, (_, j) => `<th>j=${j}</th>`).join("");
    const body = dW.slice(0, MAX_UNITS).map((row, i) => `<tr><th>i=${i}</th>${row.slice(0, cols).map((v, j) =>
      `<td title="−lr × a${L.number - 1}[${i}] × δ${L.number}[${j}] = −${t.lr} × ${s(L.input[0][i])} × ${s(L.delta[0][j])}">${num(v, `dW${L.number}[${i},${j}]`)}</td>`).join("")}</tr>`).join("");
    const bias = L.changes.b ? `<tr><th>Δb</th>${L.changes.b.slice(0, cols).map((v, j) => `<td title="−lr × δ${L.number}[${j}]">${num(v, `db${L.number}[${j}]`)}</td>`).join("")}</tr>` : "";
    const i0 = 0;
    const example = `ΔW${L.number}[${i0},0] = −lr × a${L.number - 1}[${i0}] × δ${L.number}[0] = −${t.lr} × ${paren(L.input[0][i0])} × ${paren(L.delta[0][0])}`;
    return `<h4>Layer ${L.number}: ΔW${L.number} = −lr × a${L.number - 1}ᵀ δ${L.number}</h4><p class="formula">${example}</p>`
      + `<table><tr><th></th>${head}</tr>${body}${bias}</table>${more(Math.max(dW.length, dW[0].length))}`;
  });
  return `<h3>Weight changes (hover a cell for its product)</h3>${blocks.join("")}`;
}

export function renderExplain(panel, result, onClose) {
  const t = result.trace;
  const row = Object.entries(result.row).map(([k, v]) => `${escape(k)} = ${escape(v)}`).join(", ");
  panel.innerHTML = `<button class="close" data-testid="explain-close">close</button>`
    + `<h3>One backpropagation step for ${result.split} sample #${result.index}</h3>`
    + `<p>Row: ${row}.<br>Network input (scaled as <code>chainrule train</code> scales it): a0 = [${t.X[0].map((v) => s(v)).join(", ")}].<br>`
    + `Every number below is what <code>chainrule.trace_step</code> computed for this sample, with a plain gradient step `
    + `(change = −lr × gradient, lr = ${t.lr}); the network's weights are left unchanged.</p>`
    + forward(t) + errorTable(t) + backward(t) + changes(t)
    + `<p>Loss after this step: ${num(t.loss_after, "loss_after", true)} (before: ${f(t.loss)}).</p>`;
  panel.hidden = false;
  panel.querySelector(".close").addEventListener("click", onClose);
}
