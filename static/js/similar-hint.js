// "Similar suggestions already exist": while an attendee types a new card, the server is asked,
// after a pause, which public cards say the same thing, in any language. The hint never blocks
// sending: the form's own button keeps working, and "Mine is different" simply sends the card.
// "That is mine too" keeps the draft from being sent and remembers the card on this phone, so the
// attendee can find it again when voting.

import { $, format, h, setText } from "./dom.js";

/** Typing pause before asking. */
const PAUSE = 700;
/** The server lets a phone look up 30 texts a minute (WORKSHOP_RATELIMIT_HINTS): one per 2 s. */
const GAP = 2000;
/** Seconds to keep quiet after a 429 that named no wait. */
const QUIET = 10;
const MINE_TOO = "workshop-mine-too:";

/** Whether a draft says enough to compare it: three words, or fifteen characters. */
export function worthAsking(text) {
  return text.length >= 15 || text.split(/\s+/).filter(Boolean).length >= 3;
}

/** The ids of the cards this phone said are its own too, in event `code`. */
export function readMineToo(code) {
  try {
    const stored = JSON.parse(window.localStorage.getItem(MINE_TOO + code) ?? "[]");
    return new Set(Array.isArray(stored) ? stored.filter(Number.isInteger) : []);
  } catch {
    return new Set(); // storage blocked or unreadable: nothing remembered
  }
}

/** Remember card `id` as "mine too" in event `code`; returns the set as stored. */
export function addMineToo(code, id) {
  const ids = readMineToo(code);
  ids.add(id);
  try {
    window.localStorage.setItem(MINE_TOO + code, JSON.stringify([...ids]));
  } catch {
    // Storage full or refused (private mode): remembered in this page only.
  }
  return ids;
}

/**
 * Watch the new-card form's `fields` ({title, body}) and show the hint in #similar-hint.
 * `canAsk()` says whether a look-up makes sense now (not offline, nothing waiting to be sent);
 * `cardOf(id)` is the live card (for its language), `isMine(id)` leaves the attendee's own cards
 * out, `languages` maps a card's language to its `lang` tag. `onMineToo(id)` runs on "That is mine
 * too", then `discard()` empties the form; "Mine is different" calls `send()`.
 */
export function watchForSimilar(options) {
  const hint = {
    ...options,
    timer: 0,
    seq: 0, // answers to an older look-up are dropped
    asked: "", // the text last looked up
    last: 0, // when it was asked
    quietUntil: 0, // after a 429: no look-up before then
  };
  for (const field of [hint.fields.title, hint.fields.body]) {
    field.addEventListener("input", () => typed(hint));
  }
  $("similar-send").addEventListener("click", () => {
    forget(hint);
    hint.send();
  });
  window.addEventListener("offline", () => forget(hint));
  return { forget: () => forget(hint) };
}

function draftText(hint) {
  return `${hint.fields.title.value.trim()}\n${hint.fields.body.value.trim()}`.trim();
}

function typed(hint) {
  clearTimeout(hint.timer);
  const text = draftText(hint);
  if (!worthAsking(text) || !hint.canAsk()) {
    forget(hint);
    return;
  }
  if (text === hint.asked) return;
  const now = Date.now();
  const wait = Math.max(PAUSE, hint.last + GAP - now, hint.quietUntil - now);
  hint.timer = setTimeout(() => ask(hint), wait);
}

async function ask(hint) {
  const text = draftText(hint);
  if (!worthAsking(text) || !hint.canAsk() || text === hint.asked) return;
  hint.asked = text;
  hint.last = Date.now();
  const seq = ++hint.seq;
  let found = [];
  try {
    found = (await hint.api("POST", "/similar", { text })).similar ?? [];
  } catch (error) {
    // Too often (429), offline, or the server failed: no hint, and the card can be sent as ever.
    if (error.status === 429) hint.quietUntil = Date.now() + (error.retryAfter ?? QUIET) * 1000;
    hint.asked = "";
  }
  if (seq !== hint.seq) return;
  show(hint, found.filter((card) => !hint.isMine(card.id)));
}

/** Drop the hint and any look-up under way (the draft was sent, emptied, or went offline). */
function forget(hint) {
  clearTimeout(hint.timer);
  hint.seq += 1;
  hint.asked = "";
  show(hint, []);
}

function show(hint, cards) {
  const { t } = hint;
  const box = $("similar-hint");
  const hadFocus = box.contains(document.activeElement);
  box.hidden = cards.length === 0;
  $("similar-hint-cards").replaceChildren(...cards.map((card) => buildHint(hint, card)));
  // A live region speaks on every change: it is rewritten only when its words change.
  const titles = cards.map((card) => card.title).join("; ");
  setText($("similar-hint-live"), cards.length ? format(t.similar_found_live, { titles }) : "");
  if (hadFocus && box.hidden) hint.fields.title.focus();
}

function buildHint(hint, card) {
  const { t } = hint;
  const titleId = `similar-hint-${card.id}`;
  const lang = hint.languages?.[hint.cardOf(card.id)?.language] ?? null;
  return h(
    "li",
    { class: "similar-hint-card" },
    h("p", { class: "card-title", id: titleId, lang, dir: "auto" }, card.title),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        "aria-describedby": titleId,
        dataset: { mineToo: String(card.id) },
        onclick: () => {
          forget(hint);
          hint.onMineToo(card.id);
          hint.discard();
        },
      },
      t.similar_mine_too,
    ),
  );
}
