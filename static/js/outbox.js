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
  let running = null;
  let again = false;
  let timer = 0;
  let delay = FIRST_RETRY;
  let state = "idle";

  function report(next) {
    state = next;
    onState(next);
  }

  function retryIn(ms) {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = 0;
      flush();
    }, ms);
  }

  /** Wait after a failure before sending again, as the failure asks. */
  function hold(error) {
    if (verdict(error) === "later") {
      const seconds = Number(error.retryAfter) > 0 ? error.retryAfter : DEFAULT_RETRY_AFTER;
      retryIn(Math.min(seconds, 300) * 1000);
      report("busy");
      return;
    }
    // Without a network the browser's "online" event says when to try; with one, the server is
    // unreachable or failing, so try again after a growing pause.
    if (!offline()) {
      retryIn(delay);
      delay = Math.min(delay * 2, LAST_RETRY);
    }
    report("offline");
  }

  async function run() {
    do {
      again = false;
      outbox.reload();
      for (const item of order([...outbox.items])) {
        if (offline()) {
          report("offline");
          return;
        }
        if (state !== "sending") report("sending");
        let answer;
        try {
          answer = await send(item);
        } catch (error) {
          if (verdict(error) !== "drop") {
            hold(error);
            return;
          }
          outbox.remove(item);
          onDropped(item, error);
          continue;
        }
        delay = FIRST_RETRY;
        outbox.remove(item);
        onSent(item, answer);
      }
    } while (again);
    report("idle");
  }

  /** Send what waits now (a new item, the network or the socket came back, the page loaded). */
  function flush() {
    // After a 429 only the pause ends the wait: the server asked for it whatever else happens.
    if (state === "busy" && timer) return Promise.resolve();
    clearTimeout(timer);
    timer = 0;
    if (running) {
      again = true;
      return running;
    }
    running = run().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    flush,
    hold,
    get state() {
      return state;
    },
  };
}
