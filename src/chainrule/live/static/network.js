// The network diagram: SVG nodes and edges (colour = sign, width = magnitude) over a canvas of
// each neuron's own heatmap.
import { bytes } from "./api.js";
import { paint } from "./colors.js";
import { escape } from "./boundary.js";

const SVG = "http://www.w3.org/2000/svg";
const MIN_GAP = 76;  // px between layer columns: more layers than fit scroll sideways, controls and all

function element(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export class Diagram {
  constructor(svg, canvas, tip, onFocus) {
    Object.assign(this, { svg, canvas, tip, onFocus });
    this.key = "";
    this.sticky = null;
    this.scratch = document.createElement("canvas");
  }

  layout(frame) {
    const W = this.svg.clientWidth || 500, H = this.svg.clientHeight || 380, L = frame.sizes.length;
    const most = Math.max(...frame.shown.map((s) => s.length)), step = (W - 130) / Math.max(1, L - 1);
    const per = (H - 30) / most;  // each node's share of the height, its gap included: none is cut off
    const size = Math.max(6, Math.min(30, per * 0.75, step * 0.45)), gap = per - size;
    const xs = frame.sizes.map((_, l) => 100 + l * step);
    const nodes = frame.shown.map((units, l) => units.map((u, k) => {
      const top = H / 2 - (units.length * (size + gap) - gap) / 2 + k * (size + gap);
      return { x: xs[l] - size / 2, y: top, size, layer: l, unit: u };
    }));
    return { W, H, nodes, size, xs };
  }

  build(frame, data) {
    const svg = this.svg;
    svg.innerHTML = "";
    this.geo = this.layout(frame);
    const { W, H, nodes } = this.geo;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = W * ratio; this.canvas.height = H * ratio;
    this.canvas.getContext("2d").setTransform(ratio, 0, 0, ratio, 0, 0);
    const edges = element("g", {}, svg);
    this.edges = [];
    for (let l = 0; l + 1 < nodes.length; l++) {
      for (const a of nodes[l]) for (const b of nodes[l + 1]) {
        const x1 = a.x + a.size, y1 = a.y + a.size / 2, x2 = b.x, y2 = b.y + b.size / 2, xm = (x1 + x2) / 2;
        const path = element("path", { class: "edge", d: `M${x1},${y1} C${xm},${y1} ${xm},${y2} ${x2},${y2}` }, edges);
        const edge = { path, layer: l, i: a.unit, j: b.unit, w: 0 };
        path.addEventListener("mousemove", (e) => this.showTip(e, `weight W${l + 1}[${a.unit},${b.unit}] = ${edge.w.toPrecision(4)}`));
        path.addEventListener("mouseleave", () => this.hideTip());
        this.edges.push(edge);
      }
    }
    this.rects = [];
    nodes.forEach((column, l) => {
      column.forEach((n) => {
        const rect = element("rect", { class: "node", x: n.x, y: n.y, width: n.size, height: n.size, rx: 2, "data-layer": l, "data-unit": n.unit }, svg);
        if (l === 0) {
          const label = element("text", { x: n.x - 6, y: n.y + n.size / 2 + 4, "text-anchor": "end" }, svg);
          label.textContent = short(data.features[n.unit] || `x${n.unit}`);
        } else {
          rect.addEventListener("mouseenter", (e) => { this.onFocus(l - 1, n.unit, false); this.showNodeTip(e, l, n.unit); });
          rect.addEventListener("mousemove", (e) => this.showNodeTip(e, l, n.unit));
          rect.addEventListener("mouseleave", () => { this.hideTip(); this.onFocus(null, null, false); });
          rect.addEventListener("click", () => this.onFocus(l - 1, n.unit, true));
          // Reachable by keyboard: Tab to a neuron, Enter or space keeps its own view (again: lets go).
          Object.entries({ tabindex: "0", role: "button", "aria-label": `neuron ${n.unit} of layer ${l}: show its own output` })
            .forEach(([k, v]) => rect.setAttribute(k, v));
          rect.addEventListener("keydown", (e) => {
            if (e.key === "Enter" || e.key === " ") { e.preventDefault(); e.stopPropagation(); this.onFocus(l - 1, n.unit, true); }
          });
        }
        this.rects.push(rect);
      });
      const hidden = frame.sizes[l] - column.length;
      if (hidden > 0) {
        const last = column[column.length - 1], more = element("text", { x: last.x + last.size / 2, y: last.y + last.size + 13, "text-anchor": "middle" }, svg);
        more.textContent = `+${hidden} more`;
      }
    });
    this.alignControls();
  }

  // Each hidden layer's controls sit over its own column of the diagram.
  alignControls() {
    const box = document.getElementById("layer-settings"), xs = this.geo.xs.slice(1, -1);
    const gap = xs.length > 1 ? xs[1] - xs[0] : 1e9;
    box.classList.toggle("narrow", gap < 90);
    [...box.children].forEach((col, l) => { if (l < xs.length) col.style.left = `${xs[l] - (gap < 90 ? 28 : 42)}px`; });
  }

  // Wider than the column when the layers need it (the column then scrolls sideways).
  fit(layers) {
    const box = this.svg.parentElement, need = 130 + (layers - 1) * MIN_GAP;
    const width = need > box.parentElement.clientWidth ? `${need}px` : "";
    if (box.style.width !== width) box.style.width = document.getElementById("layer-settings").style.width = width;
    document.getElementById("scroll-hint").hidden = !width;
  }

  update(frame, data) {
    this.fit(frame.sizes.length);
    const key = JSON.stringify([frame.sizes, frame.shown, data.view, data.features, this.svg.clientWidth]);
    if (key !== this.key) { this.key = key; this.build(frame, data); }
    this.frame = frame;
    for (const e of this.edges) {
      const w = frame.weights[e.layer].W[e.i][e.j];
      e.w = w;
      e.path.setAttribute("stroke", w >= 0 ? "#0877bd" : "#f59322");
      e.path.setAttribute("stroke-width", Math.min(7, 0.5 + Math.abs(w) * 2).toFixed(2));
      e.path.setAttribute("data-weight", String(w));
    }
    this.drawNeurons(frame);
    this.drawInputs(frame);
    for (const r of this.rects) {
      const f = this.sticky;
      r.classList.toggle("focused", !!f && f[0] === +r.dataset.layer - 1 && f[1] === +r.dataset.unit);
    }
  }

  drawNeurons(frame) {
    const ctx = this.canvas.getContext("2d"), all = bytes(frame.neurons.b64), n = frame.neurons.size;
    this.scratch.width = this.scratch.height = n;
    const sctx = this.scratch.getContext("2d"), image = sctx.createImageData(n, n);
    let offset = 0;
    this.geo.nodes.slice(1).forEach((column) => {
      for (const node of column) {
        paint(image, all.subarray(offset, offset + n * n), "value");
        offset += n * n;
        sctx.putImageData(image, 0, 0);
        ctx.drawImage(this.scratch, node.x, node.y, node.size, node.size);
      }
    });
  }

  // Each input over the view, from the server (an engineered feature shows its own pattern;
  // an input held at a row's value is flat).
  drawInputs(frame) {
    const ctx = this.canvas.getContext("2d"), n = frame.neurons.size, all = bytes(frame.inputs);
    this.scratch.width = this.scratch.height = n;
    const sctx = this.scratch.getContext("2d"), image = sctx.createImageData(n, n);
    this.geo.nodes[0].forEach((node, k) => {
      paint(image, all.subarray(k * n * n, (k + 1) * n * n), "value");
      sctx.putImageData(image, 0, 0);
      ctx.drawImage(this.scratch, node.x, node.y, node.size, node.size);
    });
  }

  showNodeTip(event, l, unit) {
    const layer = this.frame && this.frame.weights[l - 1], b = layer ? layer.b[unit] : 0;
    const role = l === this.frame.sizes.length - 1 ? "output" : "hidden";
    this.showTip(event, `layer ${l} (${role}, ${layer.activation}) unit ${unit}: bias ${b.toPrecision(4)}`);
  }

  showTip(event, text) {
    this.tip.hidden = false;
    this.tip.innerHTML = escape(text);
    this.tip.style.left = `${event.clientX + 12}px`;
    this.tip.style.top = `${event.clientY + 12}px`;
  }

  hideTip() { this.tip.hidden = true; }
}

function short(name) { return name.length > 13 ? `${name.slice(0, 12)}…` : name; }
