// The admin API client. The signed-in key lives in this module's memory only: never in
// localStorage, sessionStorage or a cookie, so a reload (or another tab) asks for it again.

let signedInKey = null;
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, message, type) {
    super(`${status}: ${message}`);
    this.status = status;
    this.type = type;
  }
}

export function signIn(key) {
  signedInKey = key;
}

export function signOut() {
  signedInKey = null;
}

export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

function headers(key, json) {
  const out = { Accept: "application/json" };
  const bearer = key ?? signedInKey;
  if (bearer) out.Authorization = `Bearer ${bearer}`;
  if (json) out["Content-Type"] = "application/json";
  return out;
}

async function failure(response) {
  let message = response.statusText || "request failed";
  let type;
  try {
    const body = await response.json();
    const error = body.error ?? body;
    message = error.message ?? error.detail ?? JSON.stringify(body);
    type = error.type;
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(response.status, message, type);
}

// `key` overrides the signed-in key (the playground's call key); a 401 on the signed-in key signs out.
export async function request(method, path, { query, body, key } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const response = await fetch(url, {
    method,
    headers: headers(key, body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  if (!response.ok) {
    const error = await failure(response);
    if (response.status === 401 && key === undefined && path !== "/ui/session") onUnauthorized(error);
    throw error;
  }
  const type = response.headers.get("content-type") ?? "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body) => request("POST", path, { body: body ?? {} });
export const patch = (path, body) => request("PATCH", path, { body });
export const del = (path) => request("DELETE", path);

// Streams a chat completion: calls onDelta(text) per content delta; resolves with the final usage.
export async function streamChat(body, { key, onDelta, signal }) {
  const response = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: { ...headers(key, true), Accept: "text/event-stream" },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    credentials: "omit",
    cache: "no-store",
    signal,
  });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let usage = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of frame.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return usage;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new ApiError(500, chunk.error.message ?? "stream failed", chunk.error.type);
        if (chunk.usage) usage = chunk.usage;
        const text = chunk.choices?.[0]?.delta?.content;
        if (text) onDelta(text);
      }
    }
  }
  return usage;
}
