// Backprop on the diagram: one sample's step, stage by stage. Forward values flow left to right,
// then the deltas flow back right to left, then each layer's weights change; the explain panel's
// matching section is highlighted with it. Keys: ← → (a stage), space (play / pause), Esc (stop).
const SVG = "http://www.w3.org/2000/svg";
const f = (v) => Number(v).toPrecision(3);

export function stages(trace) {
  const n = trace.layers.length, out = [{ kind: "input", layer: 0, text: "Input: the sample's values enter layer 0" }];
  for (const L of trace.layers) out.push({ kind: "forward", layer: L.number, text: `Forward: layer ${L.number} computes z = a${L.number - 1}·W${L.number} + b${L.number}, then a${L.number} = ${L.activation}(z)` });
  out.push({ kind: "loss", layer: n, text: `Loss: ${trace.loss_name} of the output against the target = ${f(trace.loss)}` });
  for (const L of [...trace.layers].reverse()) out.push({ kind: "delta", layer: L.number, text: L.number === n ? `Backward: the output delta δ${n} = dLoss/dz${n}` : `Backward: δ${L.number} = (δ${L.number + 1}·W${L.number + 1}ᵀ) × slope of ${L.activation}` });
  for (const L of trace.layers) out.push({ kind: "update", layer: L.number, text: `Update: W${L.number} and b${L.number} change by the ${trace.rule.name} step (edge labels: ΔW)` });
  out.push({ kind: "done", layer: n, text: `Done: loss after the step ${f(trace.loss_after)} (before ${f(trace.loss)})` });
  return out;
}

export class Animation {
  constructor(diagram, bar, panel) {
    Object.assign(this, { diagram, bar, panel });
    this.trace = null; this.index = 0; this.timer = null;
    bar.querySelector("[data-anim=prev]").addEventListener("click", () => this.go(this.index - 1));
    bar.querySelector("[data-anim=next]").addEventListener("click", () => this.go(this.index + 1));
    bar.querySelector("[data-anim=play]").addEventListener("click", () => this.toggle());
    document.addEventListener("keydown", (event) => {
      if (!this.trace || /INPUT|SELECT|TEXTAREA/.test(event.target.tagName)) return;
      if (event.key === "ArrowRight") { this.go(this.index + 1); event.preventDefault(); }
      else if (event.key === "ArrowLeft") { this.go(this.index - 1); event.preventDefault(); }
      else if (event.key === " " && event.target.tagName !== "BUTTON") { this.toggle(); event.preventDefault(); }
      else if (event.key === "Escape") this.stop();
    });
  }

  start(trace) {
    this.trace = trace; this.list = stages(trace); this.bar.hidden = false;
    this.go(0);
  }

  stop() {
    this.pause(); this.trace = null; this.bar.hidden = true; this.clear();
    this.panel.querySelectorAll(".lit").forEach((e) => e.classList.remove("lit"));
  }

  toggle() { if (this.timer) this.pause(); else this.play(); }
  play() {
    if (this.index >= this.list.length - 1) this.go(0);
    this.timer = setInterval(() => { if (this.index >= this.list.length - 1) this.pause(); else this.go(this.index + 1); }, 1200);
    this.bar.querySelector("[data-anim=play]").textContent = "Pause";
  }
  pause() {
    clearInterval(this.timer); this.timer = null;
    this.bar.querySelector("[data-anim=play]").textContent = "Play";
  }

  go(index) {
    if (!this.trace) return;
    this.index = Math.max(0, Math.min(this.list.length - 1, index));
    const stage = this.list[this.index];
    this.bar.dataset.stage = `${stage.kind}:${stage.layer}`;
    this.bar.querySelector("[data-anim=label]").textContent = `${this.index + 1}/${this.list.length} ${stage.text}`;
    this.draw(stage);
    const section = this.panel.querySelector(`[data-stage="${stage.kind}:${stage.layer}"]`);
    this.panel.querySelectorAll(".lit").forEach((e) => e.classList.remove("lit"));
    if (section) section.classList.add("lit");
  }

  clear() {
    this.diagram.svg.querySelectorAll(".anim").forEach((e) => e.remove());
    this.diagram.svg.querySelectorAll(".anim-on").forEach((e) => e.classList.remove("anim-on"));
    this.diagram.svg.classList.remove("animating");
  }

  // Values next to the nodes of the stage's layer; the edges into it marked (or labelled with ΔW).
  draw(stage) {
    this.clear();
    const t = this.trace, svg = this.diagram.svg, nodes = this.diagram.geo.nodes;
    svg.classList.add("animating");
    const label = (node, text, kind) => {
      const el = document.createElementNS(SVG, "text");
      el.setAttribute("class", `anim ${kind}`);
      el.setAttribute("x", node.x + node.size / 2); el.setAttribute("y", node.y - 3);
      el.setAttribute("text-anchor", "middle");
      el.textContent = text;
      svg.appendChild(el);
    };
    const values = (l) => (l === 0 ? t.X[0] : stage.kind === "delta" ? t.layers[l - 1].delta[0] : t.layers[l - 1].output[0]);
    const lastShown = stage.kind === "forward" || stage.kind === "input" ? stage.layer : nodes.length - 1;
    for (let l = 0; l <= lastShown && stage.kind !== "delta" && stage.kind !== "update"; l++) {
      for (const node of nodes[l]) label(node, f(values(l)[node.unit]), l === stage.layer ? "now" : "past");
    }
    if (stage.kind === "loss" || stage.kind === "done") {
      const last = nodes[nodes.length - 1][0];
      label({ ...last, y: last.y + last.size + 28 }, `loss ${f(stage.kind === "done" ? t.loss_after : t.loss)}`, "now");
    }
    if (stage.kind === "delta") {
      for (let l = t.layers.length; l >= stage.layer; l--) {
        for (const node of nodes[l]) label(node, `δ ${f(t.layers[l - 1].delta[0][node.unit])}`, l === stage.layer ? "now delta" : "past delta");
      }
    }
    for (const e of this.diagram.edges) {
      const into = e.layer + 1;
      const on = (stage.kind === "forward" && into === stage.layer) || (stage.kind === "delta" && into === stage.layer + 1 && stage.layer < t.layers.length)
        || (stage.kind === "update" && into === stage.layer);
      e.path.classList.toggle("anim-on", on);
      if (on && stage.kind === "update") e.path.setAttribute("data-change", String(t.layers[e.layer].changes.W[e.i][e.j]));
    }
    if (stage.kind === "update") {
      for (const node of nodes[stage.layer]) {
        const db = t.layers[stage.layer - 1].changes.b;
        if (db) label(node, `Δb ${f(db[node.unit])}`, "now delta");
      }
    }
  }
}
