// The settings: built from the server's options, sent as config changes, kept in sync with frames.
import { escape } from "./boundary.js";

const RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DECAYS = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];
const SIZES = [50, 100, 200, 300, 500, 1000, 2000];
const SPEEDS = [1, 2, 5, 10, 30, 100];

function select(values, labels) {
  const s = document.createElement("select");
  s.innerHTML = values.map((v, i) => `<option value="${escape(v)}">${escape(labels ? labels[i] : v)}</option>`).join("");
  return s;
}

function field(parent, label, control, testid) {
  const wrap = document.createElement("label");
  wrap.className = "field";
  wrap.append(label, control);
  if (testid) control.dataset.testid = testid;
  parent.appendChild(wrap);
  return control;
}

function setValue(control, value, force) {
  if (document.activeElement === control && !force) return;
  const text = value === null || value === undefined ? "" : String(value);
  if (control.tagName === "SELECT" && ![...control.options].some((o) => o.value === text)) {
    control.add(new Option(text, text));
  }
  control.value = text;
}

export class Controls {
  constructor(options, send) {
    this.options = options;
    this.send = send;
    this.config = null;
    this.wanted = null;  // the hidden layers last sent, until a frame shows them
    const top = document.getElementById("train-settings"), data = document.getElementById("data-settings");
    const number = (key, cast = Number) => (c) => c.addEventListener("change", () => send({ [key]: cast(c.value) }));
    const text = (key) => (c) => c.addEventListener("change", () => send({ [key]: c.value }));
    this.c = {};
    const add = (parent, key, label, control, bind) => { this.c[key] = field(parent, label, control, `set-${key}`); bind(control); };
    add(top, "lr", "Learning rate", select(RATES), number("lr"));
    add(top, "optimizer", "Optimizer", select(options.optimizers), text("optimizer"));
    add(top, "schedule", "Rate schedule", select(options.schedules), text("schedule"));
    const batch = document.createElement("input");
    Object.assign(batch, { type: "number", min: 0, step: 1, title: "0 = full batch" });
    add(top, "batch_size", "Batch size", batch, number("batch_size"));
    add(top, "l2", "L2", select(DECAYS), number("l2"));
    add(top, "l1", "L1", select(DECAYS), number("l1"));
    add(top, "output", "Output", select(options.outputs), text("output"));
    add(top, "loss", "Loss", select(options.losses), text("loss"));
    add(top, "task", "Problem", select(options.tasks), text("task"));
    add(top, "speed", "Epochs per frame", select(SPEEDS), number("speed"));
    const sets = Object.keys(options.datasets);
    add(data, "dataset", "Data set", select([...sets, "csv"], [...Object.values(options.datasets), "your table"]), text("dataset"));
    const range = (min, max, step) => Object.assign(document.createElement("input"), { type: "range", min, max, step });
    add(data, "noise", "Noise", range(0, 1, 0.05), number("noise"));
    add(data, "train_ratio", "Training share", range(0.1, 0.9, 0.05), number("train_ratio"));
    add(data, "n", "Points", select(SIZES), number("n"));
    const seed = Object.assign(document.createElement("input"), { type: "number", min: 0, step: 1 });
    add(data, "data_seed", "Data seed", seed, number("data_seed"));
    // The built-in sets' input features, listed from the server (chainrule.live.features).
    this.features = document.createElement("fieldset");
    this.features.className = "features";
    this.features.dataset.testid = "features";
    this.features.innerHTML = `<legend>Input features</legend>` + options.features.map((f) =>
      `<label title="${escape(f.formula)}"><input type="checkbox" value="${escape(f.name)}" data-testid="feature-${escape(f.name)}">${escape(f.label)}</label>`).join("");
    // As with layers: boxes clicked before the last change's frame arrives are not undone by it.
    this.features.addEventListener("change", () => {
      const features = [...this.features.querySelectorAll("input:checked")].map((c) => c.value);
      this.wantedFeatures = features;
      send({ features }).then((ok) => { if (!ok && this.wantedFeatures === features) { this.wantedFeatures = null; this.config = null; } });
    });
    data.appendChild(this.features);
    const csv = document.getElementById("csv-settings");
    this.target = field(csv, "Target column", document.createElement("select"), "target");
    this.target.addEventListener("change", () => send({ target: this.target.value }));
    add(csv, "missing", "Missing cells", select(options.missing), text("missing"));
    this.viewX = field(csv, "View: horizontal", document.createElement("select"), "view-x");
    this.viewY = field(csv, "View: vertical", document.createElement("select"), "view-y");
    const view = () => send({ view: [Number(this.viewX.value), Number(this.viewY.value)] });
    this.viewX.addEventListener("change", view);
    this.viewY.addEventListener("change", view);
    document.getElementById("add-layer").addEventListener("click", () => this.layers((l) => l.push({ units: 4, activation: l.length ? l[l.length - 1].activation : "tanh", dropout: 0 })));
    document.getElementById("remove-layer").addEventListener("click", () => this.layers((l) => l.pop()));
  }

  // A layer edit builds on the layers last asked for, not on the last frame drawn: two quick edits
  // (before the first one's frame arrives) must not send the second with the first one undone.
  layers(change) {
    const layers = structuredClone(this.wanted || this.config.layers);
    change(layers);
    if (layers.length > this.options.max_layers) return;
    this.wanted = layers;
    this.send({ layers }).then((ok) => { if (!ok && this.wanted === layers) this.wanted = null; });
  }

  sync(config, data) {
    if (this.wanted && JSON.stringify(config.layers) === JSON.stringify(this.wanted)) this.wanted = null;
    if (this.wantedFeatures && JSON.stringify(config.features) === JSON.stringify(this.wantedFeatures)) this.wantedFeatures = null;
    const fresh = JSON.stringify(config) !== JSON.stringify(this.config), force = this.refused;
    this.config = config;
    this.refused = false;
    if (!fresh) return;
    // After a refusal every field shows the session's setting again, the one being edited too.
    for (const [key, control] of Object.entries(this.c)) setValue(control, config[key], force);
    document.getElementById("seed-value").textContent = config.seed;
    if (!this.wantedFeatures) for (const box of this.features.querySelectorAll("input")) box.checked = (config.features || []).includes(box.value);
    this.syncLayers(config.layers);
    if (data) this.syncData(data);
  }

  // The uploaded table joins the data sets under its file name; before any upload it cannot be chosen.
  csvLabel(source) {
    const option = [...this.c.dataset.options].find((o) => o.value === "csv");
    if (!option) return;
    option.textContent = source ? `your table: ${source}` : "your table (upload a CSV below)";
    option.disabled = !source && this.config && this.config.dataset !== "csv";
  }

  syncData(data) {
    const csv = this.config.dataset === "csv";
    this.target.parentElement.hidden = !csv;
    this.c.missing.parentElement.hidden = !csv;
    this.target.innerHTML = data.columns.map((c) => `<option>${escape(c)}</option>`).join("");
    this.target.value = data.target;
    this.features.hidden = csv;
    const many = data.features.length > 2 && !data.plane;
    const options = data.features.map((f, i) => `<option value="${i}">${escape(f)}</option>`).join("");
    for (const [s, v] of [[this.viewX, data.view[0]], [this.viewY, data.view[1]]]) {
      s.parentElement.hidden = !many;
      s.innerHTML = options;
      s.value = String(v);
    }
    for (const key of ["noise", "n"]) this.c[key].parentElement.hidden = csv;
  }

  syncLayers(layers) {
    const box = document.getElementById("layer-settings");
    document.getElementById("n-hidden").textContent = layers.length;
    box.innerHTML = "";
    layers.forEach((layer, i) => {
      const col = document.createElement("div");
      col.className = "layer";
      col.innerHTML = `<div class="units"><button data-d="-1">&minus;</button><input type="number" min="1" max="${this.options.max_units}" value="${layer.units}" data-testid="units-${i}"><button data-d="1">+</button></div>`;
      const act = select(this.options.activations), drop = select(DROPOUTS, DROPOUTS.map((d) => `dropout ${d}`));
      act.value = layer.activation;
      drop.value = String(layer.dropout);
      act.dataset.testid = `activation-${i}`;
      drop.dataset.testid = `dropout-${i}`;
      col.append(act, drop);
      const set = (key, value) => this.layers((l) => { l[i][key] = value; });
      col.querySelectorAll("button").forEach((b) => b.addEventListener("click", () => set("units", Math.max(1, Math.min(this.options.max_units, layer.units + Number(b.dataset.d))))));
      col.querySelector("input").addEventListener("change", (e) => set("units", Number(e.target.value)));
      act.addEventListener("change", () => set("activation", act.value));
      drop.addEventListener("change", () => set("dropout", Number(drop.value)));
      box.appendChild(col);
    });
    if (this.onLayers) this.onLayers();
  }
}
