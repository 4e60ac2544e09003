// The explain panel: one sample's backpropagation step, every number from chainrule.trace_step,
// each formula with the numbers put in.
import { escape, fold } from "./boundary.js";

const MAX_UNITS = 16;
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

// A long sum folds between its terms (each term stays whole); no term is ever dropped.
function sum(terms) {
  return terms.map((t) => `<span class="term">${t}</span>`).join(" + ");
}

function more(n) { return n > MAX_UNITS ? `<p class="note">The first ${MAX_UNITS} of ${n} units are shown.</p>` : ""; }

function forward(t) {
  const rows = t.layers.map((L) => {
    const units = L.z[0].length, last = L.number === t.layers.length;
    const body = L.z[0].slice(0, MAX_UNITS).map((z, j) => {
      const terms = L.input[0].map((a, i) => `${paren(a)}×${paren(L.W[i][j])}`);
      const bias = L.b ? ` + ${paren(L.b[j])}` : "";
      return `<tr><td>${j}</td><td class="formula"><div class="long" tabindex="0">${sum(terms)}${bias}</div></td><td>${num(z, `z${L.number}[0,${j}]`)}</td>`
        + `<td>${num(L.output[0][j], `a${L.number}[0,${j}]`)}</td></tr>`;
    }).join("");
    const inputs = L.input[0].slice(0, MAX_UNITS).map((a, i) => `a${L.number - 1}[${i}] = ${num(a, `input${L.number}[0,${i}]`)}`).join(", ");
    return `<div data-stage="forward:${L.number}"><h4>Layer ${L.number} (${last ? "output" : "hidden"}, ${L.activation})</h4><p>input: ${inputs}</p>`
      + `<table><tr><th>unit j</th><th>z = Σ a<sub>i</sub>×W[i,j] + b<sub>j</sub></th><th>z</th><th>a = ${L.activation}(z)</th></tr>${body}</table>${more(units)}</div>`;
  });
  return `<h3>Forward pass</h3>${rows.join("")}`;
}

function errorTable(t) {
  const body = t.output[0].slice(0, MAX_UNITS).map((a, j) => `<tr><td>${j}</td><td>${num(t.y[0][j], `y[0,${j}]`)}</td>`
    + `<td>${num(a, `output[0,${j}]`)}</td><td>${num(t.error[0][j], `error[0,${j}]`)}</td></tr>`).join("");
  return `<div data-stage="loss:${t.layers.length}"><h3>Output error and loss</h3><table><tr><th>unit</th><th>target y</th><th>output a</th><th>error y − a</th></tr>${body}</table>`
    + `<p>loss (${escape(t.loss_name)}) = ${num(t.loss, "loss", true)}</p></div>`;
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
    return `<div data-stage="delta:${L.number}"><h4>δ${L.number}: ${what}</h4><table><tr><th>unit j</th><th>formula</th><th>δ</th></tr>${body}</table>${more(L.delta[0].length)}</div>`;
  });
  return `<h3>Backward pass (δ = dLoss/dz; the tutorials' error term is −δ)</h3>${rows.join("")}`;
}

// The optimizer's update: its formulas and settings, then every array of each parameter's update.
const LABELS = {
  gradient: "∂L/∂", l2: "λ×", l1: "l1×sign ", g: "g", v_prev: "v before", m_prev: "m before", m: "m", v: "v",
  m_hat: "m̂", v_hat: "v̂", change: "Δ",
};
const SHOWN = { sgd: ["gradient", "l2", "l1", "g", "change"], momentum: ["gradient", "l2", "l1", "g", "v_prev", "v", "change"],
  adam: ["gradient", "l2", "l1", "g", "m_prev", "m", "v_prev", "v", "m_hat", "v_hat", "change"],
  rmsprop: ["gradient", "l2", "l1", "g", "v_prev", "v", "change"] };
SHOWN.nesterov = SHOWN.momentum;

function key(name, p, layer) { return name === "change" ? `d${p}${layer}` : `${name}${p}${layer}`; }

// The rule's lines with one element's numbers put in: get(name) is that element's value of an array.
export function ruleLines(rule, get, decay) {
  const S = rule.settings, lr = S.lr, out = [];
  const g = get("g");
  if (decay && (S.weight_decay || S.l1)) {
    const names = ["∂L/∂p", ...(S.weight_decay ? ["λ×p"] : []), ...(S.l1 ? ["l1×sign(p)"] : [])];
    const values = [get("gradient"), ...(S.weight_decay ? [get("l2")] : []), ...(S.l1 ? [get("l1")] : [])];
    out.push(`g = ${names.join(" + ")} = ${values.map(paren).join(" + ")} = ${s(g)}`);
  }
  if (rule.name === "sgd") out.push(`Δ = −lr × g = −${lr} × ${paren(g)} = ${s(get("change"))}`);
  if (rule.name === "momentum" || rule.name === "nesterov") {
    out.push(`v = μ×v_before + g = ${S.momentum}×${paren(get("v_prev"))} + ${paren(g)} = ${s(get("v"))}`);
    out.push(rule.name === "momentum" ? `Δ = −lr × v = −${lr} × ${paren(get("v"))} = ${s(get("change"))}`
      : `Δ = −lr × (g + μ×v) = −${lr} × (${paren(g)} + ${S.momentum}×${paren(get("v"))}) = ${s(get("change"))}`);
  }
  if (rule.name === "adam") {
    out.push(`m = β1×m_before + (1−β1)×g = ${S.beta1}×${paren(get("m_prev"))} + ${s(1 - S.beta1)}×${paren(g)} = ${s(get("m"))}`);
    out.push(`v = β2×v_before + (1−β2)×g² = ${S.beta2}×${paren(get("v_prev"))} + ${s(1 - S.beta2)}×${paren(g)}² = ${s(get("v"))}`);
    out.push(`m̂ = m/(1−β1^t) = ${paren(get("m"))}/${s(S.c1)} = ${s(get("m_hat"))};  v̂ = v/(1−β2^t) = ${paren(get("v"))}/${s(S.c2)} = ${s(get("v_hat"))}`);
    out.push(`Δ = −lr × m̂/(√v̂ + ε) = −${lr} × ${paren(get("m_hat"))}/(√${s(get("v_hat"))} + ${S.eps}) = ${s(get("change"))}`);
  }
  if (rule.name === "rmsprop") {
    out.push(`v = ρ×v_before + (1−ρ)×g² = ${S.rho}×${paren(get("v_prev"))} + ${s(1 - S.rho)}×${paren(g)}² = ${s(get("v"))}`);
    out.push(`Δ = −lr × g/(√v + ε) = −${lr} × ${paren(g)}/(√${s(get("v"))} + ${S.eps}) = ${s(get("change"))}`);
  }
  return out;
}

function settings(rule) {
  const S = rule.settings, names = { c1: "1−β1^t", c2: "1−β2^t", weight_decay: "L2 λ", l1: "L1", beta1: "β1", beta2: "β2", eps: "ε", rho: "ρ", momentum: "μ" };
  return Object.entries(S).filter(([k, v]) => k !== "weight_decay" || v).map(([k, v]) => `${names[k] || k} = ${k === "t" ? v : Number(v).toPrecision(6).replace(/\.?0+$/, "")}`).join(", ");
}

function matrix(name, values, p, L, rule) {
  const two = Array.isArray(values[0]), rows = two ? values : [values];
  const cols = Math.min(MAX_UNITS, rows[0].length);
  const head = Array.from({ length: cols }, (_, j) => `<th>j=${j}</th>`).join("");
  const body = rows.slice(0, MAX_UNITS).map((row, i) => `<tr><th>${two ? `i=${i}` : p}</th>${row.slice(0, cols).map((v, j) =>
    `<td>${num(v, `${key(name, p, L.number)}[${two ? `${i},${j}` : j}]`)}</td>`).join("")}</tr>`).join("");
  return `<div class="arr"><div class="arr-name">${LABELS[name]}${["gradient", "l2", "l1"].includes(name) ? `${p}${L.number}` : ""}</div><table><tr><th></th>${head}</tr>${body}</table></div>`;
}

function changes(t) {
  const rule = t.rule;
  const blocks = t.layers.map((L) => `<div data-stage="update:${L.number}">` + Object.entries(L.updates).map(([p, arrays]) => {
    const two = p === "W", at = (name) => (two ? arrays[name][0][0] : arrays[name][0]);
    const grad = two ? `∂L/∂W${L.number}[0,0] = a${L.number - 1}[0] × δ${L.number}[0] = ${paren(L.input[0][0])} × ${paren(L.delta[0][0])} = ${s(at("gradient"))}`
      : `∂L/∂b${L.number}[0] = δ${L.number}[0] = ${s(at("gradient"))}`;
    const lines = [grad, ...ruleLines(rule, at, two)].map((line) => `<div>${line}</div>`).join("");
    const names = SHOWN[rule.name].filter((n) => n in arrays && (n !== "g" || "l2" in arrays || "l1" in arrays));
    return `<h4>Layer ${L.number}, ${p}${L.number}: element [0${two ? ",0" : ""}] worked through</h4><div class="formula">${lines}</div>`
      + `<div class="arrays">${names.map((n) => matrix(n, arrays[n], p, L, rule)).join("")}</div>${more(Math.max(arrays.change.length, two ? arrays.change[0].length : 0))}`;
  }).join("") + "</div>");
  const formulas = rule.formulas.map((f) => `<code>${escape(f)}</code>`).join("<br>");
  return `<h3>Weight changes: the ${escape(rule.name)} step training takes (∂L/∂W${"ₗ"} = aₗ₋₁ᵀ δₗ)</h3>`
    + `<p data-testid="rule">${settings(rule)}</p><p>${formulas}</p>${blocks.join("")}`;
}

export function renderExplain(panel, result, onClose) {
  const t = result.trace;
  const row = fold(Object.entries(result.row).map(([k, v]) => `${k} = ${v}`), 12);
  panel.innerHTML = `<button class="close" data-testid="explain-close">close</button>`
    + `<h3>One backpropagation step for ${result.split} sample #${result.index}</h3>`
    + `<div class="row-note">Row: ${row}.<br>Network input (scaled as <code>chainrule train</code> scales it): a0 = [${fold(t.X[0].map((v) => s(v)), 16)}].<br>`
    + `Every number below is what <code>chainrule.trace_step</code> computed for this sample with the run's own optimizer `
    + `(${escape(t.rule.name)}, its state now, lr = ${t.lr}): the step training would take on this sample alone. `
    + `The network and the optimizer are left unchanged.</div>`
    + forward(t) + errorTable(t) + backward(t) + changes(t)
    + `<p>Loss after this step: ${num(t.loss_after, "loss_after", true)} (before: ${f(t.loss)}).</p>`;
  panel.hidden = false;
  panel.querySelector(".close").addEventListener("click", onClose);
}
