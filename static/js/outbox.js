// Writes that have not reached the server yet, kept in the browser's localStorage (one outbox per
// event), so that a Wi-Fi drop, a closed tab or a server restart loses nothing typed on a phone.
// An item is sent again exactly as it was made: a card with the client id it was created with
// (the server stores one card per client id), dots as the last value wanted for the card (the
// server sets dots, it does not add them), so sending twice never stores twice.

const PREFIX = "workshop-outbox:";

/**
 * What a failed request means for a waiting item: "retry" (no connection, a timeout or a server
 * fault: send it again later), "later" (429: the server asks us to slow down) or "drop" (any other
 * refusal: sending it again would be refused again).
 */
export function verdict(error) {
  if (error?.status === 429) return "later";
  if (error?.code === "network" || error?.code === "timeout") return "retry";
  if (error?.status >= 500 || error?.status === 408) return "retry";
  return "drop";
}

/** Whether the browser knows it has no network; `true` does not promise a reachable server. */
export function offline() {
  return typeof navigator !== "undefined" && navigator.onLine === false;
}

/**
 * The outbox of event `code`: an ordered list of items `{key, kind, ...}`, one per key. A later
 * item with the same key replaces the earlier one where it stood.
 */
export class Outbox {
  constructor(code, storage = browserStorage()) {
    this.name = PREFIX + code;
    this.storage = storage;
    this.items = [];
    this.reload();
  }

  /** Read the stored items again (another tab of the same event may have changed them). */
  reload() {
    let items = [];
    try {
      const stored = JSON.parse(this.storage?.getItem(this.name) ?? "null");
      if (Array.isArray(stored?.items)) items = stored.items.filter((item) => item?.key);
    } catch {
      // Unreadable (another version, or storage refused): keep what this page has.
      return;
    }
    this.items = items;
  }

  get size() {
    return this.items.length;
  }

  get(key) {
    return this.items.find((item) => item.key === key) ?? null;
  }

  /** Add or replace the item with `item.key`; return it as stored (with its revision). */
  put(item) {
    this.reload();
    const stored = { ...item, rev: `${Date.now()}-${Math.random().toString(36).slice(2)}` };
    const index = this.items.findIndex((old) => old.key === item.key);
    if (index >= 0) this.items[index] = stored;
    else this.items.push(stored);
    this.save();
    return stored;
  }

  /** Remove `item`, unless it was replaced meanwhile (a newer wish must still be sent). */
  remove(item) {
    this.reload();
    const before = this.items.length;
    this.items = this.items.filter((old) => !(old.key === item.key && old.rev === item.rev));
    if (this.items.length !== before) this.save();
  }

  save() {
    try {
      if (this.items.length) {
        this.storage?.setItem(this.name, JSON.stringify({ version: 1, items: this.items }));
      } else {
        this.storage?.removeItem(this.name);
      }
    } catch {
      // Storage full or refused (private mode): the items live on in this page.
    }
  }
}

function browserStorage() {
  try {
    return window.localStorage;
  } catch {
    return null; // blocked by the browser's settings
  }
}

const FIRST_RETRY = 2000;
const LAST_RETRY = 30_000;
const DEFAULT_RETRY_AFTER = 10;

/**
 * Send an outbox's items one after the other, and again when told to (`flush()`) or when a retry
 * is due. `send(item)` returns a promise of the server's answer; `onSent(item, answer)` and
 * `onDropped(item, error)` report each item's end; `onState(state)` reports "idle", "sending",
 * "offline" (waiting for the network) or "busy" (the server asked to wait). `order(items)` may
 * put the items in the order they should go.
 */
export function createSender(outbox, options) {
  const { send, onSent, onDropped, onState, order = (items) => items } = options;
  const sender = {
    outbox,
    send,
    onSent,
    onDropped,
    onState,
    order,
    running: null, // the promise of the run under way
    again: false, // flushed again while running: go through the items once more
    timer: 0,
    delay: FIRST_RETRY,
    state: "idle",
  };
  return {
    /** Send what waits now (a new item, the network or the socket came back, the page loaded). */
    flush: () => flush(sender),
    /** Wait after a failure before sending again, as the failure asks. */
    hold: (error) => hold(sender, error),
    get state() {
      return sender.state;
    },
  };
}

function report(sender, next) {
  sender.state = next;
  sender.onState(next);
}

function retryIn(sender, ms) {
  clearTimeout(sender.timer);
  sender.timer = setTimeout(() => {
    sender.timer = 0;
    flush(sender);
  }, ms);
}

function hold(sender, error) {
  if (verdict(error) === "later") {
    const seconds = Number(error.retryAfter) > 0 ? error.retryAfter : DEFAULT_RETRY_AFTER;
    retryIn(sender, Math.min(seconds, 300) * 1000);
    report(sender, "busy");
    return;
  }
  // Without a network the browser's "online" event says when to try; with one, the server is
  // unreachable or failing, so try again after a growing pause.
  if (!offline()) {
    retryIn(sender, sender.delay);
    sender.delay = Math.min(sender.delay * 2, LAST_RETRY);
  }
  report(sender, "offline");
}

function flush(sender) {
  // After a 429 only the pause ends the wait: the server asked for it whatever else happens.
  if (sender.state === "busy" && sender.timer) return Promise.resolve();
  clearTimeout(sender.timer);
  sender.timer = 0;
  if (sender.running) {
    sender.again = true;
    return sender.running;
  }
  sender.running = run(sender).finally(() => {
    sender.running = null;
  });
  return sender.running;
}

async function run(sender) {
  do {
    sender.again = false;
    sender.outbox.reload();
    for (const item of sender.order([...sender.outbox.items])) {
      if (offline()) {
        report(sender, "offline");
        return;
      }
      if (sender.state !== "sending") report(sender, "sending");
      if (!(await sendItem(sender, item))) return;
    }
  } while (sender.again);
  report(sender, "idle");
}

/** Send one item; false when the rest must wait (the failure asked for a pause). */
async function sendItem(sender, item) {
  let answer;
  try {
    answer = await sender.send(item);
  } catch (error) {
    if (verdict(error) !== "drop") {
      hold(sender, error);
      return false;
    }
    sender.outbox.remove(item);
    sender.onDropped(item, error);
    return true;
  }
  sender.delay = FIRST_RETRY;
  sender.outbox.remove(item);
  sender.onSent(item, answer);
  return true;
}
