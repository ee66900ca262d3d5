// A stand-in for the workshop server that only broadcasts: it measures how many messages a
// second the load generator itself can take (`python benchmarks/loadgen.py --capacity`).
//
// Speaks just enough Engine.IO v4 / Socket.IO v5 over websocket: the open packet, the namespace
// CONNECT answered with a snapshot, then numbered `change` messages shaped like the real ones
// (a card, then dots and counts) to every connected client at `rate` messages a second in all.
// Usage: node fake_server.mjs PORT RATE

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { WebSocketServer } = require("ws");

const port = Number(process.argv[2]);
const rate = Number(process.argv[3]);
const server = new WebSocketServer({ port, perMessageDeflate: false });
const clients = new Set();
const open = { sid: "fake", upgrades: [], pingInterval: 300000, pingTimeout: 60000, maxPayload: 1e6 };

server.on("connection", (ws) => {
  ws.send(`0${JSON.stringify(open)}`);
  ws.on("message", (data) => {
    if (data.toString().startsWith("40")) {
      ws.send('40{"sid":"fake"}');
      ws.send(`42${JSON.stringify(["snapshot", { seq: seq, event: {}, suggestions: [] }])}`);
      clients.add(ws);
    }
  });
  ws.on("close", () => clients.delete(ws));
});

let seq = 0;
let number = 0;

function message() {
  seq += 1;
  const kind = seq % 3;
  if (kind === 0) {
    number += 1;
    const card = {
      id: number,
      area_id: 1,
      title: `lg-${number}`,
      body: "",
      status: "visible",
      language: "de",
      merged_into: null,
      merged_from: [],
      merged_originals: [],
      dots: 0,
      version: 1,
      created_at: "2026-06-07T10:12:00Z",
    };
    return ["change", { seq, type: "suggestion", data: card }];
  }
  const counts = { participants: 950, suggestions: number, dots: 7 };
  if (kind === 1) return ["change", { seq, type: "dots", data: { totals: { [number]: 1 }, counts } }];
  return ["change", { seq, type: "dots", data: { counts } }];
}

/** One unmasked websocket text frame, built once and written as it is to every client. */
function frame(text) {
  const payload = Buffer.from(text);
  const length = payload.length;
  let header;
  if (length < 126) {
    header = Buffer.from([0x81, length]);
  } else if (length < 65536) {
    header = Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  } else {
    throw new Error("message too long");
  }
  return Buffer.concat([header, payload]);
}

// Every 10 ms, the messages due for that slice, in one write per client: `rate` is the total
// over all clients. A client whose buffer backs up holds everyone back (no message is lost).
let sent = 0;
let started = null;
setInterval(() => {
  if (!clients.size) return;
  started ??= Date.now();
  for (const ws of clients) if (ws._socket.writableLength > 1 << 20) return;
  const due = Math.floor(((Date.now() - started) / 1000) * rate);
  const frames = [];
  while (sent < due) {
    frames.push(frame(`42${JSON.stringify(message())}`));
    sent += clients.size;
  }
  if (!frames.length) return;
  const batch = Buffer.concat(frames);
  for (const ws of clients) ws._socket.write(batch);
}, 10);
