// The attendee page: file suggestions, see every card live, spend dots. The server decides every
// rule; this page shows its state and its answers.

import { createApi } from "./api.js";
import { dotsBadge, groupByArea, mergedBadge, showsDots } from "./cards.js";
import {
  $,
  countdown,
  format,
  h,
  oncePerFrame,
  pageData,
  plural,
  reconcile,
  setText,
  showConnection,
  showLiveError,
} from "./dom.js";
import { follow } from "./live.js";
import { isPublic, participantMay, resultsPublic, sameAreaGroup } from "./rules.js";
import { createSender, Outbox, offline, verdict } from "./outbox.js";
import {
  editForm,
  fillAreaChoices,
  fillAreaSelect,
  initNewSuggestionForm,
} from "./suggestion-form.js";
import { cardTexts, localText, reader, textAttributes, translationOf } from "./translated.js";

const data = pageData();
const t = data.strings;
const api = createApi(data.api, t);

const view = {
  filter: "all",
  editing: null, // id of the card whose edit form is open
  confirming: null, // id of the card whose withdrawal waits for a second tap
  busy: new Set(), // card ids with a request on its way
  errors: new Map(), // card id -> the server's message
  // Own cards waiting for approval: the public live stream does not carry them.
  ownPending: new Map(data.own_pending.map((card) => [card.id, card])),
  sending: "idle", // what the outbox is doing: "idle", "sending", "offline" or "busy"
  sent: 0, // waiting items sent since the outbox was last empty
  allSent: false, // say "everything has been sent" for a while
  dropped: [], // messages about waiting items the server refused
  mineToo: new Set(), // cards this phone said are its own too (instead of a draft)
  originals: new Set(), // translated cards whose original the reader chose to see
  search: "", // what the search field holds
  open: new Map(), // voting: area group key -> whether the reader opened (true) or closed it
};

// While voting, a few cards show at once; more start in closed groups, one per area.
const GROUPS_OPEN_UP_TO = 12;

const timer = countdown({
  box: $("timer"),
  value: $("timer-value"),
  done: $("timer-done"),
  doneText: t.time_up,
});

// -- live state ---------------------------------------------------------------------------------

// New cards from others are announced together, at most every few seconds, so a screen reader
// is not flooded while a hall of people writes.
const ANNOUNCE_EVERY = 5000;
let unannounced = 0;
let announceTimer = 0;

function announceNewCard() {
  unannounced += 1;
  if (announceTimer) return;
  announceTimer = setTimeout(() => {
    $("new-cards").textContent = plural(t.new_cards, unannounced);
    unannounced = 0;
    announceTimer = 0;
  }, ANNOUNCE_EVERY);
}

function onUpdate(state, update) {
  const { type, data: change, previous } = update;
  if (type === "suggestion" && !previous && !state.me?.suggestions?.includes(change.id)) {
    announceNewCard();
  }
  if (type === "snapshot") {
    for (const id of view.ownPending.keys()) if (state.cards.has(id)) view.ownPending.delete(id);
  } else if (type === "suggestion") {
    view.ownPending.delete(change.id); // approved, so it is public now
  }
  if (needsMe()) refreshMe();
  if (type === "snapshot") {
    $("live-error").hidden = true;
    showConnection(null); // connected: also after the network came back without a reconnect
    sender.flush(); // first load, reconnect, resync: send what waits, now that `me` is current
  }
  if (type === "snapshot" || type === "event") {
    // In the results phase the link serves the results page (WORKSHOP_PUBLIC_RESULTS): load it,
    // within two seconds, so that a hall of phones does not ask for it in the same instant.
    const results = data.public_results && data.rules.results_public_in.includes(state.event.phase);
    if (results) setTimeout(() => location.reload(), Math.random() * 2000);
    fillAreaSelects(state.event.areas);
    timer.set(state.event.display?.timer ?? null); // seconds left as of this message
  }
  render();

  function needsMe() {
    if (type === "event") return previous?.settings.vote_budget !== change.settings.vote_budget;
    if (type !== "suggestion" && type !== "removed") return false;
    if (myDotsOn(change.id) > 0) return true;
    // A merge or unmerge moves dots and may give some back; without dots nothing can move.
    const before = JSON.stringify(previous?.merged_from ?? []);
    const merged = type === "suggestion" && before !== JSON.stringify(change.merged_from);
    return merged && Object.values(state.me?.dots ?? {}).some((n) => n > 0);
  }
}

let meTimer = 0;

/**
 * Re-read /me soon. A merge or a new budget reaches every phone at once; a random delay of up to
 * a second spreads their requests, and one request answers a burst of changes.
 */
function refreshMe() {
  if (meTimer) return;
  meTimer = setTimeout(async () => {
    meTimer = 0;
    try {
      live.state.me = await api("GET", "/me");
      render();
    } catch (error) {
      liveFailed(error.message);
    }
  }, Math.random() * 1000);
}

function myDotsOn(id) {
  return live.state.me?.dots[String(id)] ?? 0;
}

function isMine(card) {
  return Boolean(card.mine) || Boolean(live.state.me?.suggestions.includes(card.id));
}

/** A card this phone said is its own too, or one such card was merged into. */
function isMineToo(card) {
  return [card.id, ...(card.merged_from ?? [])].some((id) => view.mineToo.has(id));
}

// -- rendering ----------------------------------------------------------------------------------

const render = oncePerFrame(draw);

function draw() {
  const { event, me } = live.state;
  if (!event) return;
  document.body.className = `participant-page phase-${event.phase}`;
  if (!participantMay(event, "edit")) view.editing = view.confirming = null;
  setText($("event-title"), event.title);
  const question = localText(event, "question", undefined, event.settings?.default_language);
  setText($("event-question"), question.text);
  Object.assign($("event-question"), textAttributes(question.lang));
  $("event-question").hidden = !event.question;
  setText($("phase-label"), data.phases[event.phase] ?? event.phase);
  setText($("phase-instruction"), data.instructions[event.phase] ?? "");
  $("submit-section").hidden = !participantMay(event, "file");

  const voting = Boolean(participantMay(event, "vote") && me);
  drawDotsBar(voting);

  const cards = visibleCards();
  const areas = new Map(event.areas.map((area) => [area.id, area]));
  const list = $("cards");
  list.setAttribute("aria-busy", "false");
  list.classList.toggle("grouped", participantMay(event, "vote"));
  if (participantMay(event, "vote")) drawGroups(list, cards, areas);
  else reconcile(list, cards, cardRendering(areas));
  setText($("cards-count"), plural(t.cards_count, cards.length));
  $("cards-empty").hidden = cards.length > 0;
  setText($("cards-empty"), view.search.trim() ? t.no_match : EMPTY);
  drawMyDots(voting);
  drawOutbox(areas);
}

const EMPTY = $("cards-empty").textContent;

/** The sticky bar: dots left while voting, the countdown whenever the moderator runs one. */
function drawDotsBar(voting) {
  const { event, me } = live.state;
  $("dots-bar").hidden = !voting && !event.display?.timer;
  $("dots-left").hidden = !voting;
  if (!voting) return;
  const left = dotsLeft();
  setText($("dots-left"), format(t.dots_left, { left, budget: me.dots_budget }));
  $("dots-left").dataset.dotsLeft = left;
}

function cardRendering(areas) {
  return {
    key: (card) => card.id,
    signature: (card) => signature(card, areas),
    build: (card) => buildCard(card, areas),
  };
}

// -- voting: groups by area, "my dots" ----------------------------------------------------------

/** The cards in one item per area with cards (a <details> each), in the event's area order. */
function drawGroups(list, cards, areas) {
  const { event } = live.state;
  const groups = [...groupByArea(event.areas, cards)].filter(([, members]) => members.length);
  reconcile(list, groups, {
    key: ([key]) => `group-${key}`,
    signature: ([key]) => JSON.stringify(areas.get(Number(key)) ?? key),
    build: ([key]) => buildGroup(key, areas.get(Number(key))),
  });
  const startOpen = live.state.cards.size <= GROUPS_OPEN_UP_TO;
  groups.forEach(([, members], index) => {
    const item = list.children[index];
    const details = item.firstElementChild;
    // A search opens every group with a match; the reader's own choice returns after it.
    const open = view.search.trim() ? true : (view.open.get(item.dataset.key) ?? startOpen);
    if (details.open !== open) details.open = open;
    setText(item.querySelector(".group-count"), plural(t.cards_count, members.length));
    reconcile(item.querySelector(".card-list"), members, cardRendering(areas));
  });
}

function buildGroup(key, area) {
  const name = area ? h("span", areaAttributes(area), areaLabel(area)) : h("span", {}, t.no_area);
  const nameId = `group-name-${key}`;
  name.id = nameId;
  const details = h(
    "details",
    {
      class: "area-group-details",
      ontoggle: () => {
        if (!view.search.trim()) view.open.set(`group-${key}`, details.open);
      },
    },
    h(
      "summary",
      {},
      area && h("span", { class: "swatch", "aria-hidden": "true" }),
      name,
      h("span", { class: "group-count" }),
    ),
    h("ul", { class: "card-list", "aria-labelledby": nameId }),
  );
  const item = h("li", { class: "area-group" }, details);
  if (area) item.style.setProperty("--area-color", area.color);
  return item;
}

/** The dots a card has from me, as wished (a wish still waiting to be sent counts). */
function myWish(id) {
  return waitingDots(id)?.dots ?? myDotsOn(id);
}

/** My dots (as wished) on the cards that count in the same area as this card. */
function dotsInAreaOf(card) {
  let sum = 0;
  for (const other of live.state.cards.values()) {
    if (sameAreaGroup(card, other)) sum += myWish(other.id);
  }
  return sum;
}

/** "My dots": every card I gave dots, with "−" to take one back (one tap per dot). */
function drawMyDots(voting) {
  $("my-dots").hidden = !voting;
  if (!voting) return;
  const given = [...live.state.cards.values()].filter((card) => myWish(card.id) > 0);
  given.sort((a, b) => a.id - b.id);
  const list = $("my-dots-list");
  const hadFocus = list.contains(document.activeElement);
  reconcile(list, given, {
    key: (card) => card.id,
    signature: (card) => JSON.stringify([card, myWish(card.id), view.busy.has(card.id)]),
    build: buildMyDot,
  });
  // The last dot of a card taken back: its row is gone, so focus waits on the heading.
  if (hadFocus && !list.contains(document.activeElement)) $("my-dots-heading").focus();
  $("my-dots-empty").hidden = given.length > 0;
}

function buildMyDot(card) {
  const mine = myWish(card.id);
  const titleId = `my-dot-title-${card.id}`;
  const translated = translationOf(card);
  const lang = translated ? reader : card.language;
  const minus = [h("span", { "aria-hidden": "true" }, "−"), hidden(t.remove_dot)];
  return h(
    "li",
    { class: "my-dot" },
    h(
      "span",
      { class: "my-dot-title", id: titleId, ...textAttributes(lang) },
      translated?.title ?? card.title,
    ),
    h(
      "span",
      { class: "my-dot-count", "data-my-dots": mine },
      h("span", { class: "pips", "aria-hidden": "true" }, "●".repeat(Math.min(mine, 10))),
      " ",
      plural(t.dots, mine),
    ),
    button(minus, "summary-minus", () => setDots(card, mine - 1), {
      class: "dot-button",
      describedBy: titleId,
      inactive: view.busy.has(card.id),
    }),
  );
}

function visibleCards() {
  const { event, cards } = live.state;
  const all = new Map(cards);
  for (const [id, card] of view.ownPending) all.set(id, card);
  let shown = [...all.values()];
  const words = view.search.trim().toLocaleLowerCase();
  if (words) shown = shown.filter((card) => searchText(card).includes(words));
  if (view.filter === "none") shown = shown.filter((card) => card.area_id === null);
  else if (view.filter !== "all") {
    shown = shown.filter((card) => String(card.area_id) === view.filter);
  }
  // Results read best first; before that, cards keep the order they were filed in, except that
  // while filing my own come first, newest on top: right below the form that sent them.
  if (resultsPublic(event)) {
    shown.sort((a, b) => (b.dots ?? 0) - (a.dots ?? 0) || a.id - b.id);
  } else if (participantMay(event, "file")) {
    const rank = (card) => (isMine(card) ? -card.id : card.id + 1e9);
    shown.sort((a, b) => rank(a) - rank(b));
  } else {
    shown.sort((a, b) => a.id - b.id);
  }
  return shown;
}

/** What the search looks through: the card's texts and their translations, in lower case. */
function searchText(card) {
  const translations = Object.values(card.translations ?? {});
  const texts = [card.title, card.body, ...translations.flatMap((entry) => [entry.title, entry.body])];
  return texts.filter(Boolean).join("\n").toLocaleLowerCase();
}

function signature(card, areas) {
  const { event, me } = live.state;
  if (view.editing === card.id) return `editing ${JSON.stringify(event.areas)}`;
  return JSON.stringify([
    card,
    areas.get(card.area_id) ?? null,
    isMine(card),
    isMineToo(card),
    myDotsOn(card.id),
    waitingDots(card.id)?.dots ?? null,
    waitFirst(),
    event.phase,
    event.counts_visible,
    event.settings.max_dots_per_suggestion,
    event.settings.max_dots_per_area ?? null,
    event.settings.max_dots_per_area ? dotsInAreaOf(card) : null,
    me ? dotsLeft() : null,
    view.confirming === card.id,
    view.busy.has(card.id),
    view.errors.get(card.id) ?? null,
    view.originals.has(card.id),
  ]);
}

function buildCard(card, areas) {
  const { event } = live.state;
  const area = areas.get(card.area_id);
  const mine = isMine(card);
  const pending = card.status === "pending";
  const titleId = `card-title-${card.id}`;
  const editing = view.editing === card.id;
  const item = h("li", {
    class: ["card", mine && "mine", pending && "pending"].filter(Boolean).join(" "),
    id: `card-${card.id}`,
    "aria-labelledby": editing ? null : titleId,
  });
  if (area) item.style.setProperty("--area-color", area.color);

  item.append(cardArea(area));
  if (editing) {
    const onSaved = (saved) => {
      remember(saved);
      stopEdit(card.id);
    };
    const onCancel = () => stopEdit(card.id);
    const languages = event.settings?.languages ?? [];
    const options = { api, t, areas: event.areas, limits, onSaved, onCancel, languages };
    item.append(editForm(card, options));
    return item;
  }
  const original = view.originals.has(card.id);
  item.append(...cardTexts(card, t, { titleId, original, onToggle: () => toggleOriginal(card.id) }));

  const badges = h("p", { class: "badges" });
  if (mine) badges.append(h("span", { class: "badge badge-mine" }, t.mine));
  else if (isMineToo(card)) badges.append(h("span", { class: "badge badge-mine-too" }, t.mine_too));
  if (pending) badges.append(h("span", { class: "badge badge-pending" }, t.pending));
  if (card.merged_from.length) badges.append(mergedBadge(card, t));
  if (showsDots(card, event)) badges.append(dotsBadge(card.dots, t));
  if (badges.childElementCount) item.append(badges);

  if (participantMay(event, "edit") && mine) item.append(authorControls(card));
  if (participantMay(event, "vote") && !pending) item.append(dotControls(card, titleId));
  const error = view.errors.get(card.id);
  if (error) item.append(h("p", { class: "field-error", role: "alert" }, error));
  return item;
}

function authorControls(card) {
  const describedBy = `card-title-${card.id}`;
  if (view.confirming === card.id) {
    // "Yes" sits where "Edit" was, so a double tap on "Withdraw" lands on "Cancel".
    return h(
      "div",
      { class: "confirm" },
      h("p", {}, t.withdraw_confirm),
      h(
        "div",
        { class: "button-row" },
        button(t.withdraw_yes, "withdraw-yes", () => withdraw(card), {
          class: "danger",
          inactive: view.busy.has(card.id),
        }),
        button(t.cancel, "withdraw-cancel", () => confirmWithdraw(null, card.id, "withdraw"), {
          class: "secondary",
        }),
      ),
    );
  }
  return h(
    "div",
    { class: "button-row" },
    button(t.edit, "edit", () => startEdit(card), { class: "secondary", describedBy }),
    button(t.withdraw, "withdraw", () => confirmWithdraw(card.id, card.id, "withdraw-cancel"), {
      class: "secondary",
      describedBy,
    }),
  );
}

function dotControls(card, titleId) {
  const { event, me } = live.state;
  const waiting = waitingDots(card.id);
  const mine = waiting ? waiting.dots : myDotsOn(card.id);
  const busy = view.busy.has(card.id);
  const cap = event.settings.max_dots_per_suggestion;
  const areaCap = event.settings.max_dots_per_area ?? null;
  // Convenience only: with no dots left, or at the card's or its area's cap, "+" does nothing
  // and says why; the server judges every request.
  const noneLeft = !me || dotsLeft() <= 0;
  const atCardCap = mine >= cap;
  const atAreaCap = !atCardCap && areaCap !== null && dotsInAreaOf(card) >= areaCap;
  const atCap = atCardCap || atAreaCap;
  const capId = `cap-reached-${card.id}`;
  const minus = [h("span", { "aria-hidden": "true" }, "−"), hidden(t.remove_dot)];
  const plus = [h("span", { "aria-hidden": "true" }, "+"), hidden(t.add_dot)];
  return h(
    "div",
    { class: "dot-control" },
    button(minus, "minus", () => setDots(card, mine - 1), {
      class: "dot-button",
      describedBy: titleId,
      inactive: busy || mine <= 0,
    }),
    h(
      "p",
      { class: "my-dots", "data-my-dots": mine },
      h("span", { class: "pips", "aria-hidden": "true" }, pips(mine, cap)),
      h("span", {}, format(t.my_dots, { n: mine })),
      h("span", { class: "cap" }, format(t.cap, { cap })),
      areaCap !== null &&
        h("span", { class: "cap area-cap" }, format(t.area_cap, { cap: areaCap })),
      atCap &&
        h(
          "span",
          { class: "cap-reached", id: capId },
          atAreaCap ? t.area_cap_reached : t.cap_reached,
        ),
      waiting && h("span", { class: "badge badge-waiting" }, t.not_sent),
    ),
    button(plus, "plus", () => setDots(card, mine + 1), {
      class: "dot-button",
      describedBy: atCap ? `${titleId} ${capId}` : titleId,
      inactive: busy || noneLeft || atCap,
    }),
  );
}

/**
 * A button that keeps focus while it cannot act: aria-disabled instead of disabled, because a
 * disabled button drops the focus of someone tapping "+" repeatedly.
 */
function button(label, focusKey, action, options = {}) {
  const { class: className = null, describedBy = null, inactive = false } = options;
  return h(
    "button",
    {
      type: "button",
      class: className,
      "data-focus": focusKey,
      "aria-describedby": describedBy,
      "aria-disabled": inactive ? "true" : null,
      onclick: () => {
        if (!inactive) action();
      },
    },
    label,
  );
}

function hidden(text) {
  return h("span", { class: "visually-hidden" }, text);
}

function pips(mine, cap) {
  // Filled and empty circles up to the cap; a plain number is clearer beyond ten.
  if (cap > 10) return "";
  return "●".repeat(Math.min(mine, cap)) + "○".repeat(Math.max(cap - mine, 0));
}

// -- actions ------------------------------------------------------------------------------------

function toggleOriginal(id) {
  if (!view.originals.delete(id)) view.originals.add(id);
  draw();
}

function startEdit(card) {
  view.editing = card.id;
  view.confirming = null;
  draw();
  $(`edit-${card.id}-title`)?.focus();
}

function stopEdit(id) {
  view.editing = null;
  draw();
  $(`card-${id}`)?.querySelector('[data-focus="edit"]')?.focus();
}

function confirmWithdraw(id, cardId, focusKey) {
  view.confirming = id;
  draw();
  $(`card-${cardId}`)?.querySelector(`[data-focus="${focusKey}"]`)?.focus();
}

async function withdraw(card) {
  if (view.busy.has(card.id)) return;
  view.busy.add(card.id);
  view.errors.delete(card.id);
  render();
  try {
    remember(await api("PATCH", `/suggestions/${card.id}`, { status: "withdrawn" }));
    view.confirming = null;
    $("cards-heading").focus();
  } catch (error) {
    view.errors.set(card.id, error.message);
  } finally {
    view.busy.delete(card.id);
    render();
  }
}

async function setDots(card, dots) {
  view.errors.delete(card.id);
  const wish = { key: `dots:${card.id}`, kind: "dots", card: card.id, dots };
  if (waitFirst()) {
    keep(wish);
    return;
  }
  view.busy.add(card.id);
  render();
  try {
    applyDots(await api("PUT", `/suggestions/${card.id}/dots`, { dots }));
  } catch (error) {
    if (verdict(error) === "drop") view.errors.set(card.id, error.message);
    else keep(wish, error);
  } finally {
    view.busy.delete(card.id);
    render();
  }
}

function applyDots(result) {
  const me = live.state.me;
  if (me) {
    me.dots[String(result.suggestion_id)] = result.dots;
    me.dots_left = result.dots_left;
  }
}

/** Show a card the API just returned, before (or instead of) the live stream's copy. */
function remember(card) {
  const me = live.state.me;
  if (me && !me.suggestions.includes(card.id)) me.suggestions.push(card.id);
  if (card.status === "pending") {
    view.ownPending.set(card.id, card);
    live.state.cards.delete(card.id);
  } else {
    view.ownPending.delete(card.id);
    if (isPublic(card)) live.state.cards.set(card.id, card);
    else live.state.cards.delete(card.id);
  }
  render();
}

// -- waiting to be sent (the outbox) ------------------------------------------------------------

const ALL_SENT_SHOWN = 10_000; // how long "everything has been sent" stays
let allSentTimer = 0;

// Cards and dots that could not be sent (no network, a timeout, a server fault, a 429) wait in
// the browser's storage and go out, in order, when the network or the socket comes back.
const outbox = new Outbox(data.code);
const sender = createSender(outbox, {
  send: (item) =>
    item.kind === "suggestion"
      ? api("POST", "/suggestions", item.body)
      : api("PUT", `/suggestions/${item.card}/dots`, { dots: item.dots }),
  onSent(item, answer) {
    view.sent += 1;
    if (item.kind === "suggestion") remember(answer);
    else applyDots(answer);
    render();
  },
  onDropped(item, error) {
    if (item.kind === "dots" && live.state.cards.has(item.card)) {
      view.errors.set(item.card, error.message);
    } else if (item.kind === "suggestion") {
      // Nothing typed is lost: the text goes back into the form when that is empty.
      form.restore(item.body);
      const reason = error.message;
      view.dropped.push(format(t.not_sent_because, { title: item.body.title, reason }));
    } else {
      view.dropped.push(error.message);
    }
    render();
  },
  onState(state) {
    view.sending = state;
    if (state === "idle" && view.sent > 0) {
      view.sent = 0;
      view.allSent = true;
      clearTimeout(allSentTimer);
      allSentTimer = setTimeout(() => {
        view.allSent = false;
        drawOutbox();
      }, ALL_SENT_SHOWN);
    }
    drawOutbox();
  },
  order: sendingOrder,
});

/** Whether a new write must queue behind others: offline, or something waits already. */
function waitFirst() {
  return offline() || outbox.size > 0;
}

/** Keep a write to send later; `error` is why sending it failed just now (if it was tried). */
function keep(item, error = null) {
  view.allSent = false;
  outbox.put(item);
  if (error) sender.hold(error);
  else sender.flush();
  render();
  drawOutbox();
}

function waitingDots(id) {
  return outbox.get(`dots:${id}`);
}

/** The dots left once the waiting wishes are sent (shown at once, as if they were). */
function dotsLeft() {
  let left = live.state.me?.dots_left ?? 0;
  for (const item of outbox.items) {
    if (item.kind === "dots") left -= item.dots - myDotsOn(item.card);
  }
  return left;
}

/** Cards first (in the order they were written), then dots taken back, then dots spent:
 * the budget must be free before it is spent again. */
function sendingOrder(items) {
  const change = (item) => item.dots - myDotsOn(item.card);
  const cards = items.filter((item) => item.kind === "suggestion");
  const dots = items.filter((item) => item.kind === "dots").sort((a, b) => change(a) - change(b));
  return [...cards, ...dots];
}

let shownProblems = "[]";

let shownStatus = "[]";

function drawOutbox(areas = null) {
  const count = outbox.size;
  let lines = [];
  if (count) {
    const reason = { offline: t.outbox_offline, busy: t.outbox_busy }[view.sending];
    lines = [plural(t.outbox_count, count), reason];
  } else if (view.allSent) {
    lines = [t.outbox_sent];
  }
  // A live region speaks on every change: rewrite it only when its text changes.
  const status = JSON.stringify(lines);
  if (status !== shownStatus) {
    shownStatus = status;
    const [first, second] = lines;
    $("outbox-status").replaceChildren(
      ...(first ? [h("strong", {}, first)] : []),
      ...(second ? [" ", h("span", { class: "outbox-reason" }, second)] : []),
    );
    $("outbox-status").dataset.state = count ? "waiting" : "sent";
  }

  // An alert is read out whenever its content changes, so it is touched only when it must be.
  const problems = JSON.stringify(view.dropped);
  if (problems !== shownProblems) {
    shownProblems = problems;
    $("outbox-problems").hidden = view.dropped.length === 0;
    $("outbox-problem-list").replaceChildren(...view.dropped.map((text) => h("li", {}, text)));
  }

  const event = live.state.event;
  if (!event) return;
  const known = areas ?? new Map(event.areas.map((area) => [area.id, area]));
  const waiting = outbox.items.filter((item) => item.kind === "suggestion");
  const list = $("waiting-cards");
  list.hidden = waiting.length === 0;
  reconcile(list, waiting, {
    key: (item) => item.key,
    signature: (item) => JSON.stringify([item.body, known.get(item.body.area_id) ?? null]),
    build: (item) => buildWaiting(item.body, known.get(item.body.area_id)),
  });
}

/** The card's area, always written out: colour is never the only signal. */
function cardArea(area) {
  return h(
    "p",
    { class: "card-area" },
    area && h("span", { class: "swatch", "aria-hidden": "true" }),
    area ? h("span", areaAttributes(area), areaLabel(area)) : h("span", {}, t.no_area),
  );
}

/** An area's name in the reader's language where staff gave one. */
function areaLabel(area) {
  return localText(area, "name").text;
}

function areaAttributes(area) {
  const name = localText(area, "name", undefined, live.state.event?.settings?.default_language);
  return textAttributes(name.lang);
}

function buildWaiting(body, area) {
  const titleId = `waiting-${body.client_id}`;
  const item = h("li", { class: "card mine waiting", "aria-labelledby": titleId });
  if (area) item.style.setProperty("--area-color", area.color);
  item.append(
    cardArea(area),
    h("h3", { class: "card-title", id: titleId, dir: "auto" }, body.title),
  );
  if (body.body) item.append(h("p", { class: "card-body", dir: "auto" }, body.body));
  item.append(h("p", { class: "badges" }, h("span", { class: "badge badge-waiting" }, t.not_sent)));
  return item;
}

$("outbox-problems-close").addEventListener("click", () => {
  view.dropped = [];
  drawOutbox();
  $("cards-heading").focus();
});

// Another tab of this event changed the outbox.
window.addEventListener("storage", (storageEvent) => {
  if (storageEvent.key !== outbox.name) return;
  outbox.reload();
  render();
  drawOutbox();
});

window.addEventListener("online", () => {
  sender.flush();
  render();
});
window.addEventListener("offline", () => {
  showConnection(t.reconnecting, CONNECTION_DELAY);
  render();
});

// -- areas, filter, connection ------------------------------------------------------------------

$("card-search").addEventListener("input", (inputEvent) => {
  view.search = inputEvent.target.value;
  draw();
});

$("area-filter").addEventListener("change", (changeEvent) => {
  view.filter = changeEvent.target.value;
  draw();
});

let shownAreas = null;

function fillAreaSelects(areas) {
  // Rebuilding an open <select> closes it on some phones, so only touch it when areas changed.
  const key = JSON.stringify(areas);
  if (key === shownAreas) return;
  shownAreas = key;
  fillAreaChoices(areas);
  const filter = $("area-filter");
  const [first, last] = [filter.options[0], filter.options[filter.options.length - 1]];
  fillAreaSelect(filter, areas, view.filter, [first, last]);
  if (filter.value !== view.filter) view.filter = filter.value;
}

// A connection that is back within a second is not worth a status: shown at once, it only
// makes the header wrap and the page jump on every load.
const CONNECTION_DELAY = 1000;

/** A live failure: say why, and stop announcing the card list as loading. */
function liveFailed(message) {
  showLiveError(message);
  $("cards").setAttribute("aria-busy", "false");
}

// -- start --------------------------------------------------------------------------------------

const form = initNewSuggestionForm({
  api,
  t,
  onFiled: remember,
  queue: {
    first: waitFirst,
    keeps: (error) => verdict(error) !== "drop",
    add: (body, error) => keep({ key: `card:${body.client_id}`, kind: "suggestion", body }, error),
  },
  similar: data.similarity && {
    languages: data.languages,
    cardOf: (id) => live.state.cards.get(id),
    isMine: (id) => isMine(live.state.cards.get(id) ?? { id }),
    onMineToo: (id) =>
      similarHint.then(({ addMineToo }) => {
        view.mineToo = addMineToo(data.code, id);
        render();
      }),
  },
});
const limits = form.limits;

// The hint's module (and the "mine too" marks it keeps) loads only where the server offers
// hints: without them the first load stays within its weight budget.
const similarHint = data.similarity ? import("./similar-hint.js") : null;
similarHint?.then(({ readMineToo }) => {
  view.mineToo = readMineToo(data.code);
  render();
});

const live = follow({
  code: data.code,
  role: "participant",
  onUpdate,
  onConnection: (connected) => showConnection(connected ? null : t.reconnecting, CONNECTION_DELAY),
  onRefused: (message) => liveFailed(message || t.unknown_error),
});
showConnection(offline() ? t.reconnecting : t.connecting, CONNECTION_DELAY);
drawOutbox();
