// Load generator for the workshop server: many live screens and a stream of suggestions and votes.
//
// Started by loadgen.py (which starts the server, creates the event and reads /proc); reads its
// settings as JSON on stdin and prints one JSON line with what it measured on stdout. Progress
// goes to stderr. Times are milliseconds on CLOCK_MONOTONIC (process.hrtime), the clock of
// Python's time.monotonic(), so loadgen.py can line stages up with its /proc samples.
//
// Each screen follows the client rules of docs/api.md: changes before the snapshot are buffered,
// changes at or below the snapshot's seq are dropped, a gap in seq means a lost message: count it,
// emit `resync` and wait for the next snapshot.
//
// Vote-to-screen latency: the generator is the only voter and never has two votes in flight on
// one card, so the k-th vote on a card is the one that takes the card's total to k. A `dots`
// change that shows total T on a screen that last showed P delivers the votes P+1..T to it (the
// server coalesces votes, so one message may carry several).

import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { io } from "socket.io-client";

const now = () => Number(process.hrtime.bigint()) / 1e6;
const log = (...parts) => process.stderr.write(`loadgen: ${parts.join(" ")}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

const cfg = {
  viewers: 20, // live sockets: boards and participants
  boardShare: 0.05, // the share of them that are boards; the rest are phones (participants)
  rate: 5, // suggestions per second while collecting, then votes per second while voting
  collectSeconds: 2,
  collectRate: null, // suggestions per second, when not `rate`
  voteSeconds: 3,
  idleSeconds: 0, // hold the connections this long after connecting (memory per socket)
  drainSeconds: 15, // wait at most this long for every screen to show every change
  lateMs: 1000, // a delivery slower than this counts as late
  connectTimeoutSeconds: 60,
  // Keep-alive connections for the HTTP API (phones would each have their own; a pool this
  // large leaves the queueing to the server, where it would be).
  httpConcurrency: 256,
  budget: 5,
  cap: 2,
  maxSuggestions: 10,
  ...(await readStdin()),
};
// Several server processes (`urls`): screens are spread over them in turn, as a load balancer
// with sticky sessions would, and HTTP requests go to each in turn (they need no stickiness).
const urls = cfg.urls ?? [cfg.url];
const bases = urls.map((url) => new URL(url));
let nextBase = 0;
const code = cfg.code;
const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.httpConcurrency });

// -- measuring ----------------------------------------------------------------------------------

/** Latencies in 0.1 ms buckets up to 60 s (and one overflow bucket); percentiles from counts. */
class Histogram {
  constructor() {
    this.counts = new Uint32Array(600_001);
    this.count = 0;
    this.max = 0;
  }

  add(ms) {
    const bucket = Math.min(this.counts.length - 1, Math.max(0, Math.round(ms * 10)));
    this.counts[bucket] += 1;
    this.count += 1;
    if (ms > this.max) this.max = ms;
  }

  percentile(p) {
    if (!this.count) return null;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let bucket = 0; bucket < this.counts.length; bucket += 1) {
      seen += this.counts[bucket];
      if (seen >= rank) return bucket / 10;
    }
    return this.max;
  }

  summary() {
    const round = (value) => (value === null ? null : Math.round(value * 10) / 10);
    return {
      count: this.count,
      p50: round(this.percentile(50)),
      p95: round(this.percentile(95)),
      p99: round(this.percentile(99)),
      max: round(this.count ? this.max : null),
    };
  }
}

const stages = {}; // name -> monotonic ms
const mark = (name) => {
  stages[name] = now();
  log(name);
};

const http_ = { statuses: {}, networkErrors: {}, requests: 0 };
const joinHist = new Histogram();
const suggestAckHist = new Histogram();
const voteAckHist = new Histogram();
const connectHist = new Histogram();
const suggestionScreenHist = new Histogram(); // one sample per (suggestion, screen)
const voteScreenHist = new Histogram(); // one sample per (vote, screen)
const voteAllScreensHist = new Histogram(); // per vote: when the last screen showed it

const counters = {
  messages: 0,
  changes: { dots: 0, counts: 0, suggestion: 0, removed: 0, event: 0, other: 0 },
  snapshots: 0,
  gaps: 0,
  resyncs: 0,
  stale: 0, // numbered at or below what the screen already had (harmless by the contract)
  late: 0, // deliveries slower than lateMs
  regressions: 0, // a total going down: never expected here
  viaSnapshot: 0, // votes and suggestions a screen learnt from a snapshot after a resync
  disconnects: 0,
  connectErrors: 0,
  deflateNegotiated: 0,
  unknownVotes: 0, // a total above what the generator sent
};

// -- HTTP ---------------------------------------------------------------------------------------

function call(method, path, body, token) {
  return new Promise((resolve) => {
    const payload = body === undefined ? null : JSON.stringify(body);
    const headers = { Accept: "application/json" };
    if (payload !== null) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(payload);
    }
    if (token) headers.Authorization = `Bearer ${token}`;
    const started = now();
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      http_.requests += 1;
      if (result.status) {
        http_.statuses[result.status] = (http_.statuses[result.status] || 0) + 1;
      } else {
        http_.networkErrors[result.error] = (http_.networkErrors[result.error] || 0) + 1;
      }
      resolve({ ...result, started, ms: now() - started });
    };
    const base = bases[nextBase];
    nextBase = (nextBase + 1) % bases.length;
    const request = http.request(
      { host: base.hostname, port: base.port, path, method, headers, agent },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => {
          let data = null;
          try {
            data = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            data = null;
          }
          finish({ status: response.statusCode, data });
        });
        response.on("error", (error) => finish({ status: 0, error: error.code || error.message }));
      },
    );
    request.setTimeout(30_000, () => request.destroy(new Error("timeout")));
    request.on("error", (error) => finish({ status: 0, error: error.code || error.message }));
    request.end(payload);
  });
}

const api = (path) => `/api/v1/events/${code}${path}`;

/** Run `task(i)` for i in 0..count-1 with at most `limit` at once. */
async function pool(count, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

// -- cards and what was sent --------------------------------------------------------------------

const cards = []; // index -> {id, total (acknowledged), busy, tainted}
const cardIndexById = new Map();
const suggestionSent = []; // suggestion number -> monotonic ms when its POST went out
const suggestionAcked = new Set(); // suggestion numbers the server answered 201 for
const voteSent = []; // card index -> [total -> monotonic ms the vote that made it went out]
const voteReach = []; // card index -> [total -> {screens, last}]

function cardIndex(id) {
  let index = cardIndexById.get(id);
  if (index === undefined) {
    index = cards.length;
    cardIndexById.set(id, index);
    cards.push({ id, total: 0, busy: false, tainted: false });
    voteSent.push([]);
    voteReach.push([]);
  }
  return index;
}

function suggestionNumber(title) {
  return typeof title === "string" && title.startsWith("lg-") ? Number(title.slice(3)) : null;
}

// -- screens ------------------------------------------------------------------------------------

class Screen {
  constructor(index, role, token) {
    this.index = index;
    this.role = role;
    this.token = token;
    this.seq = null;
    this.waiting = true;
    this.buffer = [];
    this.totals = new Map(); // card index -> total this screen shows
    this.suggestions = new Set(); // suggestion numbers this screen has shown
    this.startedAt = null;
    this.readyAt = null;
    this.socket = null;
  }

  open() {
    this.startedAt = now();
    const auth = { event: code, role: this.role };
    if (this.token) auth.token = this.token;
    // forceNew: one connection per screen, as on separate phones (no multiplexing). The
    // engine offers permessage-deflate as browsers do; the server is expected to refuse it.
    this.socket = io(urls[this.index % urls.length], {
      transports: ["websocket"],
      auth,
      forceNew: true,
      reconnection: true,
      timeout: cfg.connectTimeoutSeconds * 1000,
    });
    this.socket.on("snapshot", (data) => this.onSnapshot(data));
    this.socket.on("change", (message) => this.onChange(message));
    this.socket.on("connect_error", () => {
      counters.connectErrors += 1;
    });
    this.socket.on("disconnect", () => {
      if (closing) return;
      counters.disconnects += 1;
      this.waiting = true;
      this.buffer = [];
    });
  }

  checkDeflate() {
    // `ws` lists the extensions the server accepted: "" when it refused permessage-deflate.
    const ws = this.socket.io.engine?.transport?.ws;
    if (ws?.extensions) counters.deflateNegotiated += 1;
  }

  onSnapshot(data) {
    const at = now();
    counters.messages += 1;
    counters.snapshots += 1;
    if (this.readyAt === null) {
      this.readyAt = at;
      connectHist.add(at - this.startedAt);
      this.checkDeflate();
    }
    this.seq = data.seq;
    for (const card of data.suggestions) {
      const number = suggestionNumber(card.title);
      if (number !== null && !this.suggestions.has(number)) {
        this.suggestions.add(number);
        if (suggestionSent[number] !== undefined) counters.viaSnapshot += 1;
      }
      if (card.dots !== null && card.dots !== undefined) {
        const index = cardIndex(card.id);
        const shown = this.totals.get(index) || 0;
        if (card.dots > shown) {
          counters.viaSnapshot += card.dots - shown;
          this.totals.set(index, card.dots);
        }
      }
    }
    this.waiting = false;
    const buffered = this.buffer.sort((a, b) => a.seq - b.seq);
    this.buffer = [];
    for (const message of buffered) {
      if (!this.take(message, at)) break;
    }
  }

  onChange(message) {
    counters.messages += 1;
    if (this.waiting) {
      this.buffer.push(message);
      return;
    }
    this.take(message, now());
  }

  take(message, at) {
    if (message.seq <= this.seq) {
      counters.stale += 1;
      return true;
    }
    if (message.seq !== this.seq + 1) {
      counters.gaps += 1;
      counters.resyncs += 1;
      this.waiting = true;
      this.buffer = [];
      this.socket.emit("resync");
      return false;
    }
    this.seq = message.seq;
    const kind = message.type;
    counters.changes[kind in counters.changes ? kind : "other"] += 1;
    if (kind === "dots") this.onDots(message.data.totals ?? {}, at);
    else if (kind === "suggestion") this.onSuggestion(message.data, at);
    return true;
  }

  onDots(totals, at) {
    for (const key in totals) {
      const index = cardIndex(Number(key));
      const total = totals[key];
      const shown = this.totals.get(index) || 0;
      if (total < shown) {
        counters.regressions += 1;
      } else if (total > shown) {
        const sent = voteSent[index];
        const reach = voteReach[index];
        for (let k = shown + 1; k <= total; k += 1) {
          if (sent[k] === undefined) {
            counters.unknownVotes += 1;
            continue;
          }
          const latency = at - sent[k];
          voteScreenHist.add(latency);
          if (latency > cfg.lateMs) counters.late += 1;
          const r = reach[k] || (reach[k] = { screens: 0, last: 0 });
          r.screens += 1;
          if (latency > r.last) r.last = latency;
        }
      }
      this.totals.set(index, Math.max(total, shown));
    }
  }

  onSuggestion(card, at) {
    const number = suggestionNumber(card.title);
    cardIndex(card.id);
    if (number === null || this.suggestions.has(number)) return;
    this.suggestions.add(number);
    const sent = suggestionSent[number];
    if (sent === undefined) return;
    const latency = at - sent;
    suggestionScreenHist.add(latency);
    if (latency > cfg.lateMs) counters.late += 1;
  }

  shows(index, total) {
    return (this.totals.get(index) || 0) >= total;
  }
}

let closing = false;

// -- the run ------------------------------------------------------------------------------------

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
const cpu = {};
const cpuMark = (name) => {
  cpu[name] = process.cpuUsage();
};
const received = {};
const receivedMark = (name) => {
  received[name] = counters.messages;
};

/** Capacity mode: only listen (to fake_server.mjs) and count what arrives, and at what CPU. */
async function listen() {
  const screens = [];
  for (let index = 0; index < cfg.viewers; index += 1) {
    screens.push(new Screen(index, "board", null));
  }
  mark("connectStart");
  for (const screen of screens) screen.open();
  while (screens.some((screen) => screen.readyAt === null)) await sleep(5);
  mark("connectEnd");
  await sleep(1000);
  mark("listenStart");
  cpuMark("listenStart");
  receivedMark("listenStart");
  await sleep(cfg.voteSeconds * 1000);
  mark("listenEnd");
  cpuMark("listenEnd");
  receivedMark("listenEnd");
  closing = true;
  for (const screen of screens) screen.socket.disconnect();
  const seconds = (stages.listenEnd - stages.listenStart) / 1000;
  const used = cpu.listenEnd.user - cpu.listenStart.user + cpu.listenEnd.system - cpu.listenStart.system;
  const messages = received.listenEnd - received.listenStart;
  return {
    screens: screens.length,
    messagesPerSecond: Math.round(messages / seconds),
    cpuPercent: Math.round((used / 1e6 / seconds) * 1000) / 10,
    microsecondsPerMessage: Math.round((used / messages) * 10) / 10,
    gaps: counters.gaps,
    loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
  };
}

async function main() {
  loopDelay.enable();
  if (cfg.listenOnly) return listen();
  mark("setup");
  const event = (await call("GET", api(""))).data;
  const areaIds = event.areas.map((area) => area.id);
  const boards = cfg.viewers ? Math.max(1, Math.round(cfg.viewers * cfg.boardShare)) : 0;
  const phones = cfg.viewers - boards;
  // Enough participants to file the suggestions and spend the votes within their limits.
  const collectRate = cfg.collectRate ?? cfg.rate;
  const suggestions = Math.round(collectRate * cfg.collectSeconds);
  const votes = Math.round(cfg.rate * cfg.voteSeconds);
  const participantCount = Math.max(
    phones,
    Math.ceil(suggestions / cfg.maxSuggestions),
    Math.ceil((votes * 1.25) / cfg.budget) + 5,
  );
  const participants = new Array(participantCount);
  await pool(participantCount, 32, async (index) => {
    const response = await call("POST", api("/participants"), {});
    if (response.status !== 201) throw new Error(`joining failed: ${response.status}`);
    joinHist.add(response.ms);
    participants[index] = {
      token: response.data.token,
      left: response.data.dots_left,
      dots: new Map(),
      filed: 0,
      busy: false,
    };
  });
  mark("joined");

  // Every screen opens at once: the connection burst.
  const screens = [];
  for (let index = 0; index < cfg.viewers; index += 1) {
    const role = index < boards ? "board" : "participant";
    const token = role === "participant" ? participants[index - boards].token : null;
    screens.push(new Screen(index, role, token));
  }
  mark("connectStart");
  for (const screen of screens) screen.open();
  const connectDeadline = now() + cfg.connectTimeoutSeconds * 1000;
  while (screens.some((screen) => screen.readyAt === null) && now() < connectDeadline) {
    await sleep(5);
  }
  const ready = screens.filter((screen) => screen.readyAt !== null);
  stages.connectEnd = ready.length ? Math.max(...ready.map((screen) => screen.readyAt)) : now();
  log(`connected ${ready.length}/${screens.length}`);
  const notConnected = screens.length - ready.length;
  if (cfg.idleSeconds) {
    await sleep(cfg.idleSeconds * 1000);
    mark("idleEnd");
  }

  // Collect: participants file suggestions at `rate` per second.
  const staff = cfg.staffToken;
  let suggestionsSkipped = 0;
  if (suggestions) {
    mark("collectStart");
    cpuMark("collectStart");
    receivedMark("collectStart");
    let filer = 0;
    const inFlight = new Set();
    await paced(suggestions, collectRate, (number) => {
      let participant = null;
      for (let tries = 0; tries < 50; tries += 1) {
        const candidate = participants[filer % participants.length];
        filer += 1;
        if (!candidate.busy && candidate.filed < cfg.maxSuggestions) {
          participant = candidate;
          break;
        }
      }
      if (!participant) {
        suggestionsSkipped += 1;
        return;
      }
      participant.busy = true;
      participant.filed += 1;
      const body = {
        client_id: `lg-${number}-${Math.random().toString(36).slice(2)}`,
        title: `lg-${number}`,
        area_id: areaIds[number % areaIds.length],
      };
      suggestionSent[number] = now();
      const request = call("POST", api("/suggestions"), body, participant.token).then((res) => {
        suggestAckHist.add(res.ms);
        participant.busy = false;
        if (res.status === 201) {
          suggestionAcked.add(number);
          cardIndex(res.data.id);
        }
      });
      inFlight.add(request);
      request.then(() => inFlight.delete(request));
    });
    await Promise.all(inFlight);
    mark("collectEnd");
    cpuMark("collectEnd");
    receivedMark("collectEnd");
    const filed = [...suggestionAcked];
    await drain(ready, (screen) => filed.every((number) => screen.suggestions.has(number)));
    mark("collectDrained");
  }

  // Vote: participants spend dots at `rate` per second, one dot per request.
  let votesSkipped = 0;
  let votesAcked = 0;
  if (votes) {
    // An overloaded server may time out: try again (setting the phase twice is harmless).
    let opened = null;
    for (let attempt = 0; attempt < 5 && opened?.status !== 200; attempt += 1) {
      opened = await call("PATCH", api(""), { phase: "vote" }, staff);
    }
    if (opened.status !== 200) throw new Error(`opening the vote failed: ${opened.status}`);
    const votable = cards.filter((card) => card.id !== undefined);
    if (!votable.length) throw new Error("no cards to vote on");
    await sleep(500);
    mark("voteStart");
    cpuMark("voteStart");
    receivedMark("voteStart");
    let voter = 0;
    const inFlight = new Set();
    await paced(votes, cfg.rate, () => {
      let participant = null;
      let cardAt = -1;
      for (let tries = 0; tries < 50 && cardAt < 0; tries += 1) {
        const candidate = participants[voter % participants.length];
        voter += 1;
        if (candidate.busy || candidate.left <= 0) continue;
        // A random card this participant may still raise, not being voted on right now.
        const start = Math.floor(Math.random() * cards.length);
        for (let step = 0; step < cards.length; step += 1) {
          const index = (start + step) % cards.length;
          const card = cards[index];
          if (!card.busy && !card.tainted && (candidate.dots.get(index) || 0) < cfg.cap) {
            participant = candidate;
            cardAt = index;
            break;
          }
        }
      }
      if (cardAt < 0) {
        votesSkipped += 1;
        return;
      }
      const card = cards[cardAt];
      const dots = (participant.dots.get(cardAt) || 0) + 1;
      const total = card.total + 1;
      participant.busy = true;
      card.busy = true;
      voteSent[cardAt][total] = now();
      const path = api(`/suggestions/${card.id}/dots`);
      const request = call("PUT", path, { dots }, participant.token).then((res) => {
        voteAckHist.add(res.ms);
        if (res.status === 200) {
          votesAcked += 1;
          card.total = total;
          participant.dots.set(cardAt, dots);
          participant.left = res.data.dots_left;
        } else if (res.status >= 400 && res.status < 500) {
          // Refused: nothing was stored, the next vote on this card takes the same total.
          delete voteSent[cardAt][total];
          participant.left = 0;
        } else {
          // Unknown outcome (server error, lost connection): vote on this card no more.
          card.tainted = true;
        }
        participant.busy = false;
        card.busy = false;
      });
      inFlight.add(request);
      request.then(() => inFlight.delete(request));
    });
    await Promise.all(inFlight);
    mark("voteEnd");
    cpuMark("voteEnd");
    receivedMark("voteEnd");
    await drain(ready, (screen) =>
      cards.every((card, index) => card.tainted || screen.shows(index, card.total)),
    );
    mark("voteDrained");
  }

  // What the server stored, against what it acknowledged.
  let answer = null;
  for (let attempt = 0; attempt < 5 && answer?.status !== 200; attempt += 1) {
    answer = await call("GET", api("/results"), undefined, staff);
  }
  if (answer.status !== 200) throw new Error(`reading the results failed: ${answer.status}`);
  const results = answer.data;
  const stored = new Map();
  for (const area of results.areas) {
    for (const card of area.suggestions) stored.set(card.id, card.dots);
  }
  let storedOurs = 0;
  let mismatchedCards = 0;
  for (const card of cards) {
    const dots = stored.get(card.id) ?? 0;
    storedOurs += dots;
    if (!card.tainted && dots !== card.total) mismatchedCards += 1;
  }
  // Undelivered: (suggestion or vote, connected screen) pairs that never arrived.
  let undeliveredVotes = 0;
  let undeliveredSuggestions = 0;
  for (const screen of ready) {
    for (const number of suggestionAcked) {
      if (!screen.suggestions.has(number)) undeliveredSuggestions += 1;
    }
    cards.forEach((card, index) => {
      const truth = stored.get(card.id) ?? 0;
      undeliveredVotes += Math.max(0, truth - (screen.totals.get(index) || 0));
    });
  }
  for (const reach of voteReach) {
    for (const r of reach) {
      if (r && r.screens === ready.length) voteAllScreensHist.add(r.last);
    }
  }

  closing = true;
  for (const screen of screens) screen.socket.disconnect();
  agent.destroy();
  loopDelay.disable();

  const cpuPercent = (from, to) => {
    if (!cpu[from] || !cpu[to]) return null;
    const used = cpu[to].user - cpu[from].user + (cpu[to].system - cpu[from].system);
    return Math.round((used / 1000 / (stages[to] - stages[from])) * 1000) / 10;
  };
  const messagesBetween = (from, to) =>
    received[from] === undefined ? null : received[to] - received[from];
  const perSecond = (from, to) =>
    received[from] === undefined
      ? null
      : Math.round((received[to] - received[from]) / ((stages[to] - stages[from]) / 1000));
  const firstOpen = Math.min(...screens.map((screen) => screen.startedAt));
  return {
    config: { ...cfg, staffToken: undefined, boards, phones, participants: participantCount },
    stages,
    connect: {
      screens: screens.length,
      connected: ready.length,
      notConnected,
      ...connectHist.summary(),
      burstMs: ready.length ? Math.round(stages.connectEnd - firstOpen) : null,
    },
    join: joinHist.summary(),
    suggestions: {
      planned: suggestions,
      sent: suggestionSent.filter((t) => t !== undefined).length,
      acked: suggestionAcked.size,
      stored: results.totals.suggestions,
      skipped: suggestionsSkipped,
      ack: suggestAckHist.summary(),
      screen: suggestionScreenHist.summary(),
      undelivered: undeliveredSuggestions,
      messages: messagesBetween("collectStart", "collectEnd"),
      messagesPerSecond: perSecond("collectStart", "collectEnd"),
      generatorCpu: cpuPercent("collectStart", "collectEnd"),
      seconds: stages.collectEnd ? (stages.collectEnd - stages.collectStart) / 1000 : null,
    },
    votes: {
      planned: votes,
      acked: votesAcked,
      stored: results.totals.dots,
      storedOnOurCards: storedOurs,
      mismatchedCards,
      taintedCards: cards.filter((card) => card.tainted).length,
      skipped: votesSkipped,
      ack: voteAckHist.summary(),
      screen: voteScreenHist.summary(),
      allScreens: voteAllScreensHist.summary(),
      undelivered: undeliveredVotes,
      messages: messagesBetween("voteStart", "voteEnd"),
      messagesPerSecond: perSecond("voteStart", "voteEnd"),
      generatorCpu: cpuPercent("voteStart", "voteEnd"),
      seconds: stages.voteEnd ? (stages.voteEnd - stages.voteStart) / 1000 : null,
    },
    counters,
    http: http_,
    generator: {
      loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
      loopDelayMaxMs: Math.round(loopDelay.max / 1e4) / 100,
      pid: process.pid,
    },
  };
}

/** Call `action(i)` for i in 0..count-1 at `rate` per second from now (open loop). */
async function paced(count, rate, action) {
  const started = now();
  let issued = 0;
  while (issued < count) {
    const due = Math.min(count, Math.floor(((now() - started) / 1000) * rate) + 1);
    while (issued < due) {
      action(issued);
      issued += 1;
    }
    await sleep(1);
  }
}

/** Wait until every screen satisfies `done`, at most drainSeconds. */
async function drain(screens, done) {
  const deadline = now() + cfg.drainSeconds * 1000;
  while (now() < deadline && !screens.every(done)) await sleep(100);
}

main().then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  },
  (error) => {
    log(error.stack || String(error));
    process.exit(1);
  },
);
