// The coalescing peer: a small Node socket.io server that keeps, in memory, the part of the
// workshop protocol that loadgen.mjs drives, and sends totals at most ten times a second. It is
// the yardstick of issue 19: `python benchmarks/loadgen.py --peer` runs every point against it
// too and prints workshop's figures beside the peer's.
//
// Same routes and JSON as workshop for what the generator uses (docs/api.md): a staff token,
// creating an event, reading it, joining, filing a suggestion, opening the vote, one dot per
// `PUT …/dots` (budget 5, at most 2 a card), the results; and the same live protocol: a
// connection names its event, role and token in `auth`, joins its event's room, gets a
// `snapshot` and then numbered `change` messages, and `resync` sends the snapshot again.
// What it leaves out is what makes workshop a product: no database, no durability, no
// permissions beyond the tokens, no limits, no translations.
//
// Usage: node peer_server.mjs PORT ADMIN_PASSWORD

import { randomBytes } from "node:crypto";
import http from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2]);
const adminPassword = process.argv[3] ?? "";
const INTERVAL_MS = 100; // totals at most ten times a second, per event
const AREAS = 8;

const staffTokens = new Set();
const events = new Map(); // code -> event

function newEvent(body) {
  const code = randomBytes(4).toString("hex").toUpperCase();
  const areas = Array.from({ length: AREAS }, (_, i) => ({ id: i + 1, name: `Area ${i + 1}` }));
  const event = {
    code,
    title: body.title ?? "",
    question: body.question ?? "",
    phase: body.phase ?? "collect",
    areas,
    budget: 5,
    cap: 2,
    seq: 0,
    participants: new Map(), // token -> {id, dots: Map(card id -> dots), left}
    cards: new Map(), // id -> card
    nextCard: 1,
    dirty: new Set(), // card ids whose totals wait for the next flush
    lastFlush: 0,
    timer: null,
  };
  events.set(code, event);
  return event;
}

function publicEvent(event) {
  const { code, title, question, phase, areas, budget, cap } = event;
  return { code, title, question, phase, areas, budget, cap };
}

function counts(event) {
  let dots = 0;
  for (const card of event.cards.values()) dots += card.dots;
  return { participants: event.participants.size, suggestions: event.cards.size, dots };
}

function snapshot(event) {
  return { seq: event.seq, event: publicEvent(event), suggestions: [...event.cards.values()] };
}

function change(event, type, data) {
  event.seq += 1;
  io.to(event.code).emit("change", { seq: event.seq, type, data });
}

/** Totals of the cards voted on since the last flush, at most once per INTERVAL_MS. */
function scheduleFlush(event) {
  if (event.timer) return;
  const wait = Math.max(0, event.lastFlush + INTERVAL_MS - Date.now());
  event.timer = setTimeout(() => {
    event.timer = null;
    event.lastFlush = Date.now();
    const totals = {};
    for (const id of event.dirty) totals[id] = event.cards.get(id).dots;
    event.dirty.clear();
    change(event, "dots", { totals, counts: counts(event) });
  }, wait);
}

// -- HTTP ---------------------------------------------------------------------------------------

function send(response, status, data) {
  const body = JSON.stringify(data ?? {});
  response.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  response.end(body);
}

function fail(response, status, code) {
  send(response, status, { error: { code, message: code } });
}

function bearer(request) {
  return (request.headers.authorization ?? "").replace(/^Bearer /, "");
}

function vote(event, request, response, id, body) {
  const participant = event.participants.get(bearer(request));
  const card = event.cards.get(id);
  if (!participant) return fail(response, 401, "unauthorized");
  if (!card) return fail(response, 404, "not_found");
  if (event.phase !== "vote") return fail(response, 409, "wrong_phase");
  const dots = body.dots;
  const before = participant.dots.get(id) ?? 0;
  const left = participant.left + before - dots;
  if (!Number.isInteger(dots) || dots < 0 || dots > event.cap || left < 0) {
    return fail(response, 422, "budget");
  }
  participant.dots.set(id, dots);
  participant.left = left;
  card.dots += dots - before;
  event.dirty.add(id);
  scheduleFlush(event);
  return send(response, 200, { suggestion_id: id, dots, dots_left: left });
}

function suggest(event, request, response, body) {
  const participant = event.participants.get(bearer(request));
  if (!participant) return fail(response, 401, "unauthorized");
  const card = {
    id: event.nextCard,
    area_id: body.area_id ?? null,
    title: String(body.title ?? ""),
    body: String(body.body ?? ""),
    status: "visible",
    language: "de",
    merged_into: null,
    merged_from: [],
    merged_originals: [],
    dots: 0,
    version: 1,
    created_at: new Date().toISOString(),
  };
  event.nextCard += 1;
  event.cards.set(card.id, card);
  change(event, "suggestion", card);
  return send(response, 201, card);
}

function results(event, response) {
  const areas = event.areas.map((area) => ({
    ...area,
    suggestions: [...event.cards.values()].filter((card) => card.area_id === area.id),
  }));
  return send(response, 200, { areas, totals: counts(event) });
}

function route(request, response, body) {
  const path = request.url.split("?")[0];
  const method = request.method;
  if (path === "/healthz") return send(response, 200, { status: "ok" });
  if (path === "/api/v1/auth/token" && method === "POST") {
    if (body.password !== adminPassword) return fail(response, 401, "unauthorized");
    const token = randomBytes(16).toString("hex");
    staffTokens.add(token);
    return send(response, 200, { token });
  }
  if (path === "/api/v1/events" && method === "POST") {
    if (!staffTokens.has(bearer(request))) return fail(response, 401, "unauthorized");
    return send(response, 201, publicEvent(newEvent(body)));
  }
  const match = path.match(/^\/api\/v1\/events\/([^/]+)(\/.*)?$/);
  const event = match && events.get(match[1]);
  if (!event) return fail(response, 404, "not_found");
  const rest = match[2] ?? "";
  const dots = rest.match(/^\/suggestions\/(\d+)\/dots$/);
  if (dots && method === "PUT") return vote(event, request, response, Number(dots[1]), body);
  if (rest === "/suggestions" && method === "POST") return suggest(event, request, response, body);
  if (rest === "/participants" && method === "POST") {
    const token = randomBytes(16).toString("hex");
    event.participants.set(token, { id: event.participants.size + 1, dots: new Map(), left: 5 });
    return send(response, 201, { token, dots_left: event.budget });
  }
  if (rest === "/results" && method === "GET") return results(event, response);
  if (rest === "" && method === "GET") return send(response, 200, publicEvent(event));
  if (rest === "" && method === "PATCH") {
    if (!staffTokens.has(bearer(request))) return fail(response, 401, "unauthorized");
    if (body.phase) event.phase = body.phase;
    change(event, "event", publicEvent(event));
    return send(response, 200, publicEvent(event));
  }
  return fail(response, 404, "not_found");
}

const httpServer = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    let body = {};
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
    } catch {
      return fail(response, 400, "bad_request");
    }
    return route(request, response, body ?? {});
  });
});

// -- Socket.IO ----------------------------------------------------------------------------------

const io = new Server(httpServer, { perMessageDeflate: false, serveClient: false });

io.use((socket, next) => {
  const { event: code, role, token } = socket.handshake.auth ?? {};
  const event = events.get(code);
  if (!event) return next(new Error("not_found"));
  if (role === "participant" && !event.participants.has(token)) {
    return next(new Error("unauthorized"));
  }
  socket.data.event = event;
  return next();
});

io.on("connection", (socket) => {
  const event = socket.data.event;
  socket.join(event.code);
  socket.emit("snapshot", snapshot(event));
  socket.on("resync", () => socket.emit("snapshot", snapshot(event)));
});

httpServer.listen(port, "127.0.0.1");
