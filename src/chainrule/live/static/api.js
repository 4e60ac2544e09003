// Talking to the playground server: JSON POSTs for commands, Server-Sent Events for frames.
// Every request names this tab's session (?session=ID), which openSession gets once.

let session = "";
export const at = (path) => (session ? `${path}${path.includes("?") ? "&" : "?"}session=${encodeURIComponent(session)}` : path);

// This tab's session: the one it had before a reload (sessionStorage is per tab), else a new one.
export async function openSession() {
  let kept = "";
  try { kept = sessionStorage.getItem("chainrule-session") || ""; } catch (e) { kept = ""; }
  const result = await post("/api/session", { session: kept || null });
  session = result.session;
  try { sessionStorage.setItem("chainrule-session", session); } catch (e) { /* private mode: one run per load */ }
  return result;
}

async function reply(response) {
  let body = {};
  try { body = await response.json(); } catch (e) { body = { ok: false, error: `the server answered ${response.status}` }; }
  if (!response.ok || body.ok === false) throw new Error(body.error || `the server answered ${response.status}`);
  return body;
}

// The session's token, written into the page by the server: every request that changes state sends it.
const TOKEN = document.querySelector('meta[name="chainrule-token"]')?.content || "";

export async function post(path, payload) {
  const response = await fetch(at(path), {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Chainrule-Token": TOKEN },
    body: JSON.stringify(payload),
  });
  return reply(response);
}

export const command = (cmd, extra = {}) => post("/api/command", { cmd, ...extra });
export const configure = (config) => command("config", { config });
export const explain = (split, index) => post("/api/explain", { split, index });

export async function getJSON(path) {
  return reply(await fetch(at(path), { cache: "no-store" }));
}

export async function upload(file, target) {
  const query = new URLSearchParams({ name: file.name });
  if (target) query.set("target", target);
  const response = await fetch(at(`/api/upload?${query}`), {
    method: "POST", headers: { "Content-Type": "text/csv", "X-Chainrule-Token": TOKEN }, body: file,
  });
  return reply(response);
}

// Frames arrive as fast as the server makes them; onFrame gets each one (the page draws only the latest).
export function connect(onFrame, onError) {
  const source = new EventSource(at("/api/events"));
  source.onmessage = (event) => onFrame(JSON.parse(event.data));
  source.onerror = () => onError && onError();
  return source;
}

export function bytes(b64) {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
