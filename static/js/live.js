// The live-state protocol (docs/api.md, "Live updates"): one snapshot, then numbered changes.
// Shared by the attendee page, the board and the moderator console.

import { io } from "../vendor/socket.io/socket.io.esm.min.js";

/** How long a resync may take after the network came back before the connection is renewed. */
const RESYNC_TIMEOUT = 5000;
/** How long to wait before asking again when the server refused a resync (too many at once). */
const RESYNC_RETRY = 3000;

/**
 * Follow one event's live state as `role` ("participant", "board" or "moderator").
 *
 * `onUpdate(state, update)` runs after each snapshot (`update.type === "snapshot"`) and after each
 * change (`update.type` is the change type, `update.data` its data, `update.previous` the card or
 * event as it was before). `onConnection(connected)` reports the socket; `onRefused(message)` runs
 * when the server will not let this client in (it does not retry then); `message` is the server's
 * translated reason, or null.
 */
export function follow(options) {
  const { code, role, token, onUpdate, onConnection = () => {}, onRefused = () => {} } = options;
  const connect = options.connect ?? io; // tests pass a fake socket here
  const auth = { event: code, role };
  if (token) auth.token = token;
  const stream = {
    socket: connect({ auth }),
    state: { event: null, cards: new Map(), me: null },
    seq: null, // null until a snapshot arrived, and again while waiting for a resync
    waiting: [], // changes that arrived while seq was null
    onUpdate,
  };
  const { socket } = stream;

  socket.on("connect", () => onConnection(true));
  socket.on("disconnect", () => {
    // The server sends a fresh snapshot by itself when we are back.
    stream.seq = null;
    stream.waiting = [];
    onConnection(false);
  });
  socket.on("connect_error", (error) => {
    if (socket.active) onConnection(false);
    // Only the server's own message is translated; the client library's text is not.
    else onRefused(error?.data?.message ?? null);
  });
  socket.on("snapshot", (snapshot) => takeSnapshot(stream, snapshot));
  socket.on("change", (change) => receive(stream, change));
  const onOnline = () => checkConnection(stream);
  window.addEventListener("online", onOnline);

  return {
    state: stream.state,
    socket,
    /** Ask for a fresh snapshot, e.g. after the page was hidden for a long time. */
    resync() {
      if (stream.seq === null) return;
      stream.seq = null;
      askForSnapshot(stream);
    },
    close() {
      window.removeEventListener("online", onOnline);
      socket.close();
    },
  };
}

function takeSnapshot(stream, snapshot) {
  const { state } = stream;
  stream.seq = snapshot.seq;
  state.event = snapshot.event;
  state.cards = new Map(snapshot.suggestions.map((card) => [card.id, card]));
  if (snapshot.me) state.me = snapshot.me;
  stream.onUpdate(state, { type: "snapshot" });
  const buffered = stream.waiting.sort((a, b) => a.seq - b.seq);
  stream.waiting = [];
  for (const change of buffered) receive(stream, change);
}

// Every new connection (the first and each reconnect) gets a fresh snapshot from the server.
// When the device's network comes back, the open connection may have died silently meanwhile
// (a phone that changed networks notices only after the ping timeout): ask for a snapshot at
// once, and connect anew when no answer comes in time.
function checkConnection(stream) {
  const { socket } = stream;
  if (!socket.connected) return; // reconnecting already; a snapshot follows the connection
  stream.seq = null;
  const asked = socket.id;
  socket.timeout(RESYNC_TIMEOUT).emit("resync", (error) => {
    if (error && socket.connected && socket.id === asked) socket.io.engine.close();
  });
}

// Changes wait until a snapshot comes; if the server refuses the request (the client asked too
// often), ask again a little later rather than wait for a reconnect.
function askForSnapshot(stream) {
  stream.socket.emit("resync", (answer) => {
    if (!answer?.error) return;
    setTimeout(() => {
      if (stream.seq === null && stream.socket.connected) askForSnapshot(stream);
    }, RESYNC_RETRY);
  });
}

function receive(stream, change) {
  if (stream.seq === null) {
    stream.waiting.push(change);
    return;
  }
  if (change.seq <= stream.seq) return; // already part of the snapshot
  if (change.seq !== stream.seq + 1) {
    // A message was lost: start again from a snapshot, keeping what came meanwhile.
    stream.seq = null;
    stream.waiting = [change];
    askForSnapshot(stream);
    return;
  }
  stream.seq = change.seq;
  const previous = apply(stream.state, change);
  stream.onUpdate(stream.state, { type: change.type, data: change.data, previous });
}

/** Apply one change to the state; return what it replaced (a card, the event or null). */
export function apply(state, { type, data }) {
  if (type === "suggestion") {
    const previous = state.cards.get(data.id) ?? null;
    state.cards.set(data.id, data);
    return previous;
  }
  if (type === "removed") {
    const previous = state.cards.get(data.id) ?? null;
    state.cards.delete(data.id);
    return previous;
  }
  if (type === "dots") {
    // Totals, the live figures, or both: one message per flush.
    for (const [id, dots] of Object.entries(data.totals ?? {})) {
      const card = state.cards.get(Number(id));
      if (card) state.cards.set(card.id, { ...card, dots });
    }
    if (!data.counts) return null;
    const previous = state.event;
    state.event = { ...state.event, counts: data.counts };
    return previous;
  }
  if (type === "event") {
    const previous = state.event;
    state.event = data;
    return previous;
  }
  return null;
}
