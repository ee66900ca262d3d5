// Small DOM helpers shared by the live pages. User text only ever goes in through textContent.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** The page's language, for plurals, numbers and times. */
export const pageLanguage = document.documentElement.lang || "de";

/** Create an element: `h("p", {class: "x", dir: "auto"}, "text", child)`. */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Read the JSON a template put into `<script type="application/json" id=...>`. */
export function pageData(id = "page-data") {
  return JSON.parse($(id).textContent);
}

/** Set a node's text only when it differs: the same text written again makes live regions speak. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Show why the live connection failed in the page's #live-error box. */
export function showLiveError(message) {
  const box = $("live-error");
  box.textContent = message;
  box.hidden = false;
}

let connectionTimer = 0;

/**
 * Show `message` in the page's #connection status, or hide it for null. With `delay` (ms) the
 * message waits that long and is dropped when another call comes first.
 */
export function showConnection(message, delay = 0) {
  clearTimeout(connectionTimer);
  const mark = $("connection");
  const show = () => {
    mark.textContent = message ?? "";
    mark.hidden = !message;
  };
  if (message && delay) connectionTimer = setTimeout(show, delay);
  else show();
}

/** Fill `{name}` placeholders of a translated string. */
export function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (match, name) =>
    name in values ? String(values[name]) : match,
  );
}

/**
 * Fill `{name}` placeholders of a translated string with text isolated in <bdi> elements, so that
 * a title in another direction (Arabic in a German sentence) keeps the sentence in order. Returns
 * nodes for h() or append().
 */
export function formatIsolated(template, values) {
  return template.split(/(\{\w+\})/).map((part) => {
    const name = part.match(/^\{(\w+)\}$/)?.[1];
    return name && name in values ? h("bdi", {}, String(values[name])) : part;
  });
}

const pluralRules = new Intl.PluralRules(pageLanguage);

/** Pick the plural form the page's language needs; the template gives "one" and "other". */
export function plural(forms, n) {
  return format(forms[pluralRules.select(n)] ?? forms.other, { n });
}

/** Group numbers as the page's language does. */
export function number(n) {
  return new Intl.NumberFormat(pageLanguage).format(n);
}

const signatures = new WeakMap();

/**
 * Keep `container`'s children in the order of `items`, rebuilding only the items whose signature
 * changed, so that focus and scroll position survive a live update.
 */
export function reconcile(container, items, { key, signature, build }) {
  const old = new Map();
  for (const node of container.children) old.set(node.dataset.key, node);
  let previous = null;
  for (const item of items) {
    const id = String(key(item));
    const sig = signature(item);
    let node = old.get(id);
    old.delete(id);
    if (!node || signatures.get(node) !== sig) {
      const fresh = build(item);
      fresh.dataset.key = id;
      signatures.set(fresh, sig);
      if (node) replaceKeepingFocus(node, fresh);
      node = fresh;
    }
    const expected = previous ? previous.nextSibling : container.firstChild;
    if (node !== expected) container.insertBefore(node, expected);
    previous = node;
  }
  for (const node of old.values()) node.remove();
}

// Controls carry data-focus="..." so that a rebuilt card can give focus back to "the same" button.
function replaceKeepingFocus(node, fresh) {
  const active = document.activeElement;
  const focusKey = node.contains(active) ? active.dataset.focus : undefined;
  node.replaceWith(fresh);
  if (focusKey) fresh.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`)?.focus();
}

/** A random UUID; crypto.randomUUID() exists only on HTTPS, and venues often serve plain HTTP. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const parts = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20)];
  return [...parts, hex.slice(20)].join("-");
}

/** Return a function that runs `draw` once in the next frame, however often it is called:
 * many live changes can arrive in one burst. */
export function oncePerFrame(draw) {
  let frame = 0;
  return () => {
    if (!frame) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        draw();
      });
    }
  };
}

/**
 * A countdown that trusts the server's `seconds_left` at receipt and the local monotonic clock
 * after it (`performance.now()`), so a projector with a wrong wall clock still counts right.
 */
export function countdown({ box, value, done, doneText }) {
  let base = null; // {seconds, at}
  let timerId = 0;

  function tick() {
    if (!base) return;
    const elapsed = (performance.now() - base.at) / 1000;
    const left = Math.max(0, Math.ceil(base.seconds - elapsed));
    const text = clock(left);
    if (value.textContent !== text) value.textContent = text;
    const over = left <= 0;
    box.classList.toggle("timer-over", over);
    const message = over ? doneText : "";
    if (done.textContent !== message) done.textContent = message;
    if (over) stop();
  }

  function stop() {
    clearInterval(timerId);
    timerId = 0;
  }

  return {
    /** A fresh `display.timer` from a snapshot or an event change (null: no countdown). */
    set(timer) {
      stop();
      if (!timer) {
        base = null;
        box.hidden = true;
        done.textContent = "";
        return;
      }
      base = { seconds: timer.seconds_left, at: performance.now() };
      box.hidden = false;
      tick();
      if (base.seconds > 0) timerId = setInterval(tick, 200);
    },
  };
}

/** "4:07", or "1:02:03" for an hour and more. */
export function clock(seconds) {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const secs = String(seconds % 60).padStart(2, "0");
  if (hours) return `${hours}:${String(minutes).padStart(2, "0")}:${secs}`;
  return `${minutes}:${secs}`;
}
