// The dashboard's only way to the gateway: its shipped operations, sent by hash (trusted
// documents, gateway/dashboard.py), with the visitor's API key when one is kept.
const config = JSON.parse(document.getElementById("revgate-config").textContent);
const KEY = "revgate.apiKey";

export const pollInterval = config.pollInterval;

/** Whether this gateway's schema runs an operation (features without one are hidden). */
export function has(name) {
  return Object.prototype.hasOwnProperty.call(config.operations, name);
}

export function apiKey() {
  try {
    return localStorage.getItem(KEY) || "";
  } catch {
    return "";
  }
}

export function setApiKey(value) {
  if (value) localStorage.setItem(KEY, value);
  else localStorage.removeItem(KEY);
  dispatchEvent(new Event("revgate-key")); // what the visitor may do has changed
}

function request(name, variables, accept) {
  const headers = {"Content-Type": "application/json", Accept: accept};
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const extensions = {persistedQuery: {version: 1, sha256Hash: config.operations[name]}};
  return {
    method: "POST",
    headers,
    body: JSON.stringify({operationName: name, variables, extensions}),
  };
}

/** Runs an operation: {data, errors}; a transport failure is one error with a code. */
export async function run(name, variables = {}) {
  if (!has(name)) return {data: null, errors: [{message: `${name} is not available here`}]};
  try {
    const response = await fetch(config.endpoint, request(name, variables, "application/json"));
    const body = await response.json();
    return {data: body.data ?? null, errors: body.errors ?? []};
  } catch (error) {
    return {data: null, errors: [{message: `the gateway did not answer (${error})`}]};
  }
}

/** A subscription over Server-Sent Events (fetch-based: it can send the key), resumed after
 * the last event's cursor when the stream ends. Returns a function that stops it. */
export function subscribe(name, onEvent, retryMs = 2000) {
  const controller = new AbortController();
  let after = null;
  const loop = async () => {
    while (!controller.signal.aborted) {
      try {
        const init = request(name, {after}, "text/event-stream");
        const response = await fetch(config.endpoint, {...init, signal: controller.signal});
        if (response.ok && response.body) {
          await readEvents(response.body, (data) => {
            const event = data?.data?.events;
            if (event?.cursor) after = event.cursor;
            if (event) onEvent(event);
          });
        }
      } catch (error) {
        if (controller.signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  loop();
  return () => controller.abort();
}

async function readEvents(body, onNext) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer = (buffer + value).replace(/\r\n/g, "\n"); // the gateway ends lines with CRLF
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split("\n");
      const kind = lines.find((l) => l.startsWith("event:"))?.slice(6).trim();
      const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5)).join("\n");
      if (kind === "next" && data) onNext(JSON.parse(data));
      if (kind === "complete") return;
    }
  }
}
