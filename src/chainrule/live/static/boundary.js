// The big view: the output (or one neuron's) heatmap over two features, with the data points on top.
import { bytes, } from "./api.js";
import { CLASSES, paint, rampCss } from "./colors.js";

export class Boundary {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.scratch = document.createElement("canvas");
    this.data = null;
    this.showTest = true;
    this.discrete = false;  // "discretize output": each pixel at its side of 0.5 (or its value band)
    this.selected = null;  // {split, index}
    const ratio = window.devicePixelRatio || 1;
    this.size = canvas.clientWidth || 320;
    canvas.width = canvas.height = Math.round(this.size * ratio);
    this.ctx.scale(ratio, ratio);
  }

  setData(data) { this.data = data; }

  toPixel(x, y) {
    const [x0, x1, y0, y1] = this.data.domain, s = this.size;
    return [(x - x0) / (x1 - x0) * s, (y1 - y) / (y1 - y0) * s];
  }

  draw(frame) {
    if (!this.data) return;
    const grid = frame.focus || frame.grid, n = grid.size;
    if (this.scratch.width !== n) { this.scratch.width = this.scratch.height = n; }
    const sctx = this.scratch.getContext("2d"), image = sctx.createImageData(n, n);
    const kind = frame.focus ? "value" : grid.kind, values = bytes(grid.b64);
    paint(image, this.discrete ? discretize(values, kind, frame.task) : values, kind);
    sctx.putImageData(image, 0, 0);
    const ctx = this.ctx;
    ctx.imageSmoothingEnabled = !this.discrete;
    ctx.clearRect(0, 0, this.size, this.size);
    ctx.drawImage(this.scratch, 0, 0, this.size, this.size);
    this.drawPoints(frame.grid);
  }

  colour(label, grid) {
    if (this.data.task !== "regression") return CLASSES[label % CLASSES.length];
    return rampCss((label - grid.lo) / (grid.hi - grid.lo));
  }

  drawPoints(grid) {
    const ctx = this.ctx, p = this.data.points;
    for (let i = 0; i < p.index.length; i++) {
      const test = p.test[i] === 1;
      if (test && !this.showTest) continue;
      const [px, py] = this.toPixel(p.x[i], p.y[i]);
      // Visible on any heatmap: a dark outline round every point (white halo for training points,
      // a thick black ring for test points), filled with its class or value colour.
      ctx.beginPath();
      ctx.arc(px, py, test ? 3.8 : 3.4, 0, 2 * Math.PI);
      ctx.fillStyle = this.colour(p.label[i], grid);
      ctx.fill();
      ctx.lineWidth = test ? 2 : 1;
      ctx.strokeStyle = test ? "#000" : "#333";
      ctx.stroke();
      if (!test) { ctx.beginPath(); ctx.arc(px, py, 4.6, 0, 2 * Math.PI); ctx.lineWidth = 1; ctx.strokeStyle = "rgba(255,255,255,.8)"; ctx.stroke(); }
    }
    const s = this.selected && this.find(this.selected.split, this.selected.index);
    if (s !== null && s !== undefined && s >= 0) {
      const [px, py] = this.toPixel(p.x[s], p.y[s]);
      ctx.beginPath();
      ctx.arc(px, py, 8, 0, 2 * Math.PI);
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#000";
      ctx.stroke();
    }
  }

  find(split, index) {
    const p = this.data.points;
    for (let i = 0; i < p.index.length; i++) {
      if (p.index[i] === index && (p.test[i] === 1) === (split === "test")) return i;
    }
    return -1;
  }

  // The number of colours in the heatmap under the points (a test hook: two when discretized).
  colours() {
    const px = this.scratch.getContext("2d").getImageData(0, 0, this.scratch.width, this.scratch.height).data, seen = new Set();
    for (let i = 0; i < px.length; i += 4) seen.add(`${px[i]},${px[i + 1]},${px[i + 2]}`);
    return seen.size;
  }

  // The point nearest a click (within 10 px), as {split, index}, or null.
  pick(event) {
    if (!this.data) return null;
    const box = this.canvas.getBoundingClientRect(), p = this.data.points;
    const mx = (event.clientX - box.left) * this.size / box.width, my = (event.clientY - box.top) * this.size / box.height;
    let best = -1, bestDist = 100;
    for (let i = 0; i < p.index.length; i++) {
      if (p.test[i] === 1 && !this.showTest) continue;
      const [px, py] = this.toPixel(p.x[i], p.y[i]), d = (px - mx) ** 2 + (py - my) ** 2;
      if (d < bestDist) { best = i; bestDist = d; }
    }
    return best < 0 ? null : { split: p.test[best] === 1 ? "test" : "train", index: p.index[best] };
  }

  // Where a point is on the screen (a test hook: window.playground.pointPixel).
  pointPixel(split, index) {
    const i = this.find(split, index);
    if (i < 0) return null;
    const box = this.canvas.getBoundingClientRect(), [px, py] = this.toPixel(this.data.points.x[i], this.data.points.y[i]);
    return { x: box.left + px * box.width / this.size, y: box.top + py * box.height / this.size };
  }

  legend(element, frame) {
    if (!this.data) return;
    if (this.data.task === "regression") {
      const g = frame.grid, [offset, scale] = this.data.target_scale, units = (v) => (v * scale + offset).toPrecision(3);
      element.innerHTML = `<span>${units(g.lo)}</span><span class="ramp"></span><span>${units(g.hi)}</span><span>${escape(this.data.target)}</span>`;
    } else {
      element.innerHTML = this.data.classes.map((c, i) => `<span><i style="background:${CLASSES[i % CLASSES.length]}"></i>${escape(c)}</span>`).join("");
    }
    element.innerHTML += `<span class="marks"><i class="train-mark"></i>training <i class="test-mark"></i>test</span>`;
  }
}

// TF Playground's "discretize output": a probability or a neuron's value to one side of its middle,
// a class at full confidence, a regression value to one of eight bands.
export function discretize(values, kind, task) {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (kind === "classes") out[i] = i % 2 ? 255 : v;
    else if (task === "regression" && kind === "value") out[i] = Math.min(255, Math.floor(v / 32) * 32 + 16);
    else out[i] = v >= 128 ? 255 : 0;
  }
  return out;
}

// A long list of "name = value" items: the first few inline, the rest folded into a scrolling box
// (a 1,000-column table's held values would otherwise push the page thousands of pixels down).
export function fold(items, shown = 8) {
  const head = items.slice(0, shown).map(escape).join(", ");
  if (items.length <= shown) return head;
  const rest = items.slice(shown).map(escape).join(", ");
  return `${head}, <details class="fold" data-testid="fold"><summary>and ${items.length - shown} more</summary><div class="fold-body">${rest}</div></details>`;
}

export function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
