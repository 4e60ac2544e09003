// The page: wires the controls, views and explain panel to the server's frames and commands.
import { at, command, configure, connect, explain, getJSON, openSession, upload } from "./api.js";
import { Boundary, escape, fold } from "./boundary.js";
import { drawChart } from "./chart.js";
import { Controls } from "./controls.js";
import { renderExplain } from "./explain.js";
import { Animation } from "./animate.js";
import { Diagram } from "./network.js";

const $ = (id) => document.getElementById(id);
const stats = { received: 0, drawn: 0 };
const state = { lastFrame: 0, frame: null, data: null, dataVersion: -1, pending: false, explaining: false, selected: null, sticky: null, note: null, hash: "" };
const boundary = new Boundary($("boundary"));
const diagram = new Diagram($("network"), $("thumbs"), $("tip"), focus);
const animation = new Animation(diagram, $("anim-bar"), $("explain-panel"));
let controls = null;

function showMessage(text, kind = "error") {
  state.note = text ? { text, kind } : null;
  paintMessage();
}

function paintMessage() {
  const box = $("message"), note = (state.frame && state.frame.message) || state.note;
  box.hidden = !note;
  if (note) { box.textContent = note.text; box.className = `message ${note.kind}`; }
}

async function run(promise) {
  try { return await promise; } catch (error) { showMessage(error.message); return null; }
}

// Settings are sent one after another, so the server applies them in the order they were made.
let sending = Promise.resolve();
// A refused setting puts every menu back to what the session really uses.
function send(changes) {
  showMessage(null);
  sending = sending.then(async () => {
    const result = await run(configure(changes));
    if (!result && state.frame) { controls.config = null; controls.refused = true; state.pending = true; requestAnimationFrame(draw); }
    return result;
  });
  return sending;
}

function focus(layer, unit, sticky) {
  if (sticky) state.sticky = state.sticky && state.sticky[0] === layer && state.sticky[1] === unit ? null : [layer, unit];
  diagram.sticky = state.sticky;
  const target = layer === null && !sticky ? state.sticky : (sticky ? state.sticky : [layer, unit]);
  command("focus", { layer: target ? target[0] : null, unit: target ? target[1] : null }).catch(() => {});
}

function onFrame(frame) {
  stats.received++;
  state.lastFrame = performance.now();
  state.frame = frame;
  if (state.note && state.note.lost) showMessage(null);
  if (!state.pending) { state.pending = true; requestAnimationFrame(draw); }
}

async function draw() {
  const frame = state.frame;
  if (frame.data_version !== state.dataVersion) {
    state.dataVersion = frame.data_version;
    state.data = await getJSON("/api/data");
    boundary.setData(state.data);
    boundary.selected = state.selected = null;
    controls.config = null;  // refresh the column pickers too
    closeExplain();
  }
  state.pending = false;
  const data = state.data, latest = state.frame;
  controls.sync(latest.config, data);
  controls.csvLabel(latest.source);
  $("epoch").textContent = latest.epoch;
  $("lr-now").textContent = Number(latest.lr).toPrecision(3);
  $("loss").textContent = latest.loss === null ? "–" : latest.loss.toPrecision(4);
  $("val-loss").textContent = latest.val_loss === null ? "–" : latest.val_loss.toPrecision(4);
  $("metric-name").textContent = latest.metric_name === "r2" ? "R²" : "accuracy";
  const pct = (v) => (v === null ? "–" : latest.metric_name === "r2" ? v.toFixed(3) : `${(100 * v).toFixed(1)}%`);
  $("metric").textContent = pct(latest.metric);
  $("val-metric").textContent = pct(latest.val_metric);
  const play = $("play");
  play.textContent = latest.playing ? "❚❚" : "▶";
  play.classList.toggle("playing", latest.playing);
  play.setAttribute("aria-pressed", String(latest.playing));
  play.setAttribute("aria-label", latest.playing ? "Pause" : "Play");
  play.dataset.playing = String(latest.playing);
  paintMessage();
  progress();
  boundary.draw(latest);
  boundary.legend($("legend"), latest);
  $("view-title").textContent = viewTitle(latest, data);
  $("data-note").textContent = dataNote(latest, data);
  const held = heldNote(data);
  if (held !== state.heldHtml) { state.heldHtml = held; $("held-note").innerHTML = held; }
  diagram.update(latest, data);
  drawChart($("chart"), latest.history);
  const hash = `#config=${encodeURIComponent(JSON.stringify(latest.config))}`;
  if (hash !== state.hash) { state.hash = hash; history.replaceState(null, "", hash); }
  stats.drawn++;
}

function viewTitle(frame, data) {
  const shown = frame.focus
    ? `neuron ${frame.focus.unit} of layer ${frame.focus.layer + 1} (${frame.weights[frame.focus.layer].activation})`
    : frame.task === "regression" ? `prediction of ${data.target}`
      : frame.grid.kind === "classes" ? "most likely class (paler = less sure)" : `P(${data.target} = ${data.classes[1]})`;
  const axes = data.axes.length > 1 ? ` over ${data.axes[0]} (→) and ${data.axes[1]} (↑)` : "";
  return `Showing: ${shown}${axes}`;
}

function dataNote(frame, data) {
  const source = frame.config.dataset === "csv" ? `${frame.source || "table"}: ` : "";
  const task = data.task === "regression" ? "regression" : `${data.classes.length} classes`;
  return `${source}${data.rows} rows (${data.n_train} training, ${data.n_test} test), ${task}; inputs standardised as chainrule train does.`;
}

// What the view holds fixed, in the table's own values, and how its two inputs were chosen.
function heldNote(data) {
  if (!data.held) return data.features.length > 2 ? `View: ${escape(data.view_reason)}.` : "";
  const values = fold(Object.entries(data.held.values).map(([k, v]) => `${k} = ${v}`));
  const end = values.includes("<details") ? "" : ".";
  return `View: ${escape(data.view_reason)}. The other inputs are held at ${data.held.split} row #${data.held.row}: ${values}${end}`;
}

// Explain mode is shown on the button (class "active", aria-pressed, data-explaining="true").
function setExplaining(on) {
  state.explaining = on;
  const button = $("explain");
  button.classList.toggle("active", on);
  button.setAttribute("aria-pressed", String(on));
  button.dataset.explaining = String(on);
}

// Explain by row number (no mouse needed): the row's split is the server's to say.
async function explainRow(index) {
  if (!state.data || !Number.isInteger(index) || index < 0 || index >= state.data.rows) {
    showMessage(`There is no row #${index}: choose a row from 0 to ${state.data ? state.data.rows - 1 : "?"}.`);
    return;
  }
  $("explain-row").value = String(index);
  await explainPoint({ split: "any", index });
}

// Between frames (a long epoch on a big table): how long the epoch under way has taken so far.
function progress() {
  const box = $("progress"), frame = state.frame, waited = performance.now() - state.lastFrame;
  const show = !!frame && frame.playing && state.lastFrame > 0 && waited > 400;
  box.hidden = !show;
  if (frame && !frame.playing) state.pausing = false;
  const doing = state.pausing ? "pausing" : `training epoch ${frame && frame.epoch + 1}`;
  if (show) box.textContent = `${doing}… ${(waited / 1000).toFixed(1)} s since the last frame`;
}

// The ONNX file through fetch, so a failure (the onnx extra missing on the server) is a message.
async function downloadOnnx() {
  const response = await fetch(at("/api/model.onnx"), { cache: "no-store" });
  if (!response.ok) {
    let text = `the server answered ${response.status}`;
    try { text = (await response.json()).error || text; } catch (e) { /* not JSON */ }
    showMessage(`ONNX export failed: ${text}`);
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = "chainrule-playground.onnx";
  document.body.appendChild(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
}

async function explainPoint(point) {
  state.selected = boundary.selected = point;
  setExplaining(true);
  const result = await run(explain(point.split, point.index));
  if (result) state.selected = boundary.selected = { split: result.split, index: result.index };
  if (result) { renderExplain($("explain-panel"), result, closeExplain); animation.start(result.trace); }
}

function closeExplain() {
  setExplaining(false);
  animation.stop();
  $("explain-panel").hidden = true;
}

function wire() {
  $("play").addEventListener("click", () => {
    state.pausing = !!(state.frame && state.frame.playing);
    run(command(state.pausing ? "pause" : "play"));
  });
  $("step").addEventListener("click", async () => {
    await run(command("step"));
    if (state.explaining && state.selected) explainPoint(state.selected);
  });
  $("reset").addEventListener("click", () => { showMessage(null); run(command("reset")); });
  $("new-seed").addEventListener("click", () => run(command("new_seed")));
  $("explain").addEventListener("click", () => {
    // Enter explain mode and show the hint now, inside the click: the hint moves the views down,
    // so it must not appear later (after a round trip), under a pointer already aiming at a point.
    if (state.selected) { explainPoint(state.selected); return; }  // the server pauses as it explains
    setExplaining(true);
    showMessage("Explain: click a point in the output view (or type a row number under it and press Enter) to see its backpropagation step.", "info");
    run(command("pause"));
  });
  $("boundary").addEventListener("click", (event) => {
    const point = boundary.pick(event);
    if (point) { showMessage(null); explainPoint(point); }
  });
  $("discretize").addEventListener("change", (e) => { boundary.discrete = e.target.checked; if (state.frame) boundary.draw(state.frame); });
  $("download-onnx").addEventListener("click", () => run(downloadOnnx()));
  $("explain-row-form").addEventListener("submit", (event) => { event.preventDefault(); explainRow(Number($("explain-row").value || 0)); });
  const nextRow = (d) => explainRow(((state.selected ? state.selected.index : -1) + d + state.data.rows) % state.data.rows);
  $("explain-next").addEventListener("click", () => nextRow(1));
  document.addEventListener("keydown", (event) => {
    if (/INPUT|SELECT|TEXTAREA/.test(event.target.tagName) || !state.data) return;
    if (event.key === "]") nextRow(1); else if (event.key === "[") nextRow(-1);
  });
  setInterval(progress, 100);
  $("show-test").addEventListener("change", (e) => { boundary.showTest = e.target.checked; if (state.frame) boundary.draw(state.frame); });
  $("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    if (file.size > state.maxUpload) {
      showMessage(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the playground accepts tables up to ${(state.maxUpload / 1e6).toFixed(1)} MB.`);
    } else {
      const result = await run(upload(file));
      if (result) showMessage(`${file.name}: ${result.rows} rows loaded.`, "info");
    }
    event.target.value = "";
  });
  $("copy-link").addEventListener("click", () => {
    if (navigator.clipboard) navigator.clipboard.writeText(location.href).catch(() => {});
    showMessage("The address of this page now reproduces this setup: copy it from the address bar (copied if allowed).", "info");
  });
}

async function start() {
  const opened = await openSession();
  state.shared = opened.shared;
  $("download").href = at("/api/model");
  const initial = await getJSON("/api/state");
  state.maxUpload = initial.max_upload;
  controls = new Controls(initial.options, send);
  controls.onLayers = () => { if (diagram.geo) diagram.alignControls(); };
  wire();
  const match = location.hash.match(/^#config=(.*)$/);
  if (match && state.shared) {
    showMessage("This playground runs one shared session for every tab (--shared): the link's setup was not applied, so the run everyone watches goes on.", "info");
  } else if (match) {
    try { await send(JSON.parse(decodeURIComponent(match[1]))); } catch (error) { showMessage(`The link's setup could not be read: ${error.message}`); }
  }
  connect(onFrame, () => {
    showMessage("Lost the connection to the playground server; reconnecting…", "info");
    state.note.lost = true;
  });
}

window.playground = { stats, state, animation, pointPixel: (split, index) => boundary.pointPixel(split, index), colours: () => boundary.colours() };
start();
