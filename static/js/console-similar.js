// Similar cards in the moderator console (issue 14): possible duplicates across languages and
// areas, the similar cards of one card, suggested groups per area, and a suggested area for cards
// filed without one. The server finds them all; merging and moving go through the console's usual
// API calls (with their Undo), so this module only shows what the server found and asks it.

import { translationBlock } from "./console-translation.js";
import { $, format, formatIsolated, h, pageLanguage, plural, reconcile, setText } from "./dom.js";
import { cardAllows, staffMay } from "./rules.js";

/** After a `similarity` message, ask again at most this often: cards are analysed in bursts. */
const REFRESH_PAUSE = 1000;

const percent = new Intl.NumberFormat(pageLanguage, { style: "percent" });

const view = {
  on: true, // whether the server has a similarity engine
  loaded: false, // the first list of possible duplicates has come
  pending: 0, // cards not analysed yet
  pairs: [], // [{a, b, score}], best first, as the server sent them
  dismissed: new Set(), // "a-b" of pairs dismissed since (a late answer may still hold them)
  hints: new Map(), // card id -> {area_id, score}: where a card without an area may belong
  leaving: null, // {key, index} of a pair acted on: when it has left, its neighbour gets focus
};

let ctx = null; // what the console hands in: see setupSimilar
let timer = 0;
const running = { pairs: false, hints: false };
const again = { pairs: false, hints: false };

/**
 * Wire the hints to the console. `options` holds `call`, `t`, `data`, `state()` (the live state),
 * `merge(id, into)` (true when merged), `unmerge(id)`, `move(id, areaKey)`, `say(message,
 * isError)`, `toast(message, undo)`, `areaOf(card)` and `render()`.
 */
export function setupSimilar(options) {
  ctx = options;
  view.on = Boolean(ctx.data.similarity);
  $("similar-dialog-close").addEventListener("click", () => $("similar-dialog").close());
  $("groups-dialog-close").addEventListener("click", () => $("groups-dialog").close());
  $("groups-open")?.addEventListener("click", () => {
    const id = Number($("groups-area").value);
    const area = ctx.state().event?.areas.find((candidate) => candidate.id === id);
    if (area) openGroups(area, $("groups-open"));
  });
  for (const dialog of [$("similar-dialog"), $("groups-dialog")]) {
    dialog.addEventListener("close", () => returnFocus(dialog));
  }
  if (view.on) refresh();
}

/** The console's live updates: new vectors, a pair another moderator dismissed, a fresh start. */
export function similarUpdate(update) {
  if (!view.on) return;
  if (update.type === "pair_dismissed") {
    view.dismissed.add(pairKey(update.data));
  } else if (update.type === "similarity") {
    view.pending = update.data?.pending ?? view.pending;
    refreshSoon();
  } else if (update.type === "snapshot") {
    refreshSoon(); // after a reconnect: messages may have been missed meanwhile
  }
}

function refreshSoon() {
  if (timer) return;
  timer = setTimeout(() => {
    timer = 0;
    refresh();
  }, REFRESH_PAUSE);
}

function refresh() {
  load("pairs", "/duplicates", (answer) => {
    view.on = answer.on !== false;
    view.pending = answer.pending ?? 0;
    view.pairs = answer.pairs ?? [];
    view.loaded = true;
  });
  load("hints", "/area-hints", (answer) => {
    view.hints = new Map((answer.hints ?? []).map((hint) => [hint.id, hint]));
  });
}

/** GET `path` and hand the answer to `take`; one request per kind at a time, then once more. */
async function load(kind, path, take) {
  if (running[kind]) {
    again[kind] = true;
    return;
  }
  running[kind] = true;
  try {
    take(await ctx.call("GET", path));
  } catch {
    // Not reachable now: the next change asks again, and what was shown stays.
  } finally {
    running[kind] = false;
  }
  ctx.render();
  if (again[kind]) {
    again[kind] = false;
    load(kind, path, take);
  }
}

const pairKey = ({ a, b }) => `${Math.min(a, b)}-${Math.max(a, b)}`;

/** A card the server may still merge (not merged away, not withdrawn). */
function mergeable(card) {
  return Boolean(card) && cardAllows(card, "merge");
}

/**
 * The direction a merge is offered in: the card with more dots stays, then the one that already
 * gathered merges, then a visible one, then the older. Only a default for the button; the server
 * decides what a merge does, and the card menu merges either way.
 */
export function keeperOf(first, second) {
  const rank = (card) => [
    card.dots ?? 0,
    card.merged_from?.length ?? 0,
    card.status === "visible" ? 1 : 0,
    -card.id,
  ];
  const [x, y] = [rank(first), rank(second)];
  const index = x.findIndex((value, i) => value !== y[i]);
  return index >= 0 && x[index] < y[index] ? [second, first] : [first, second];
}

// -- the panel of possible duplicates ---------------------------------------------------------

/** Draw the panel from the last list and the live cards; runs with every console redraw. */
export function drawSimilar() {
  const { cards, event } = ctx.state();
  const shown = view.pairs.filter(
    (pair) =>
      !view.dismissed.has(pairKey(pair)) &&
      mergeable(cards.get(pair.a)) &&
      mergeable(cards.get(pair.b)),
  );
  setText($("similar-status"), statusLine(shown.length));
  $("similar").hidden = shown.length === 0;
  setText($("similar-count"), String(shown.length));
  const canMerge = Boolean(event) && staffMay(event, "merge");
  reconcile($("similar-pairs"), shown, {
    key: pairKey,
    signature: (pair) =>
      JSON.stringify([
        pair.score,
        canMerge,
        ...[cards.get(pair.a), cards.get(pair.b)].map((card) => [card, ctx.areaOf(card)]),
      ]),
    build: (pair) => buildPair(pair, cards.get(pair.a), cards.get(pair.b), canMerge),
  });
  focusAfterRemoval();
  $("area-hint-help").hidden = ![...cards.values()].some((card) => areaHintFor(card));
  if (event) fillGroupAreas(event.areas);
}

/** The side bar's line: hints off, cards still being analysed, or how many pairs there are. */
function statusLine(count) {
  const { t } = ctx;
  if (!view.on) return t.hints_off;
  const lines = [];
  if (view.loaded) lines.push(count ? plural(t.duplicates_count, count) : t.no_duplicates);
  if (view.pending > 0) lines.push(plural(t.still_analysed, view.pending));
  return lines.join(" · ");
}

let shownAreas = null;

/** The areas to suggest groups in, kept as chosen while the event's areas stay the same. */
function fillGroupAreas(areas) {
  const select = $("groups-area");
  const key = JSON.stringify(areas);
  if (!select || key === shownAreas) return;
  shownAreas = key;
  const chosen = select.value;
  select.replaceChildren(
    ...areas.map((area) => h("option", { value: area.id, dir: "auto" }, area.name)),
  );
  select.value = chosen;
  if (select.selectedIndex < 0) select.selectedIndex = 0;
}

function buildPair(pair, first, second, canMerge) {
  const { t } = ctx;
  const key = pairKey(pair);
  const [kept, merged] = keeperOf(first, second);
  const titles = [`pair-${key}-first`, `pair-${key}-second`];
  const keepsId = `pair-${key}-keeps`;
  const item = h(
    "li",
    { class: "pair" },
    h(
      "div",
      { class: "pair-cards" },
      cardBlock(first, { kept: kept === first, titleId: titles[0] }),
      h("p", { class: "pair-score" }, format(t.similarity, { percent: percent.format(pair.score) })),
      cardBlock(second, { kept: kept === second, titleId: titles[1] }),
    ),
  );
  const foot = h("div", { class: "pair-foot" });
  const actions = h("div", { class: "button-row pair-actions" });
  if (canMerge) {
    foot.append(h("p", { class: "pair-keeps", id: keepsId }, keepsText(kept, merged)));
    actions.append(
      h(
        "button",
        {
          type: "button",
          "aria-describedby": keepsId,
          dataset: { focus: `merge-${key}`, action: "merge" },
          onclick: () => leave(pair, () => ctx.merge(merged.id, kept.id)),
        },
        t.merge,
      ),
    );
  }
  actions.append(
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        "aria-describedby": titles.join(" "),
        dataset: { focus: `dismiss-${key}`, action: "dismiss" },
        onclick: () => leave(pair, () => dismiss(pair)),
      },
      t.not_duplicate,
    ),
  );
  foot.append(actions);
  item.append(foot);
  return item;
}

/** "Merge keeps “A” and adds “B” to it." */
function keepsText(kept, merged) {
  return formatIsolated(ctx.t.merge_keeps, { kept: kept.title, merged: merged.title });
}

/** One card inside the panel or a dialog: its area, its text in its own language, its state. */
function cardBlock(card, { kept = false, titleId = null } = {}) {
  const { t, data } = ctx;
  const area = ctx.areaOf(card);
  const lang = data.languages?.[card.language] ?? null;
  const block = h(
    "div",
    { class: "sim-card" },
    h(
      "p",
      { class: "card-area" },
      area && h("span", { class: "swatch", "aria-hidden": "true" }),
      h("span", { dir: "auto" }, area ? area.name : t.no_area),
    ),
    h("p", { class: "card-title", id: titleId, lang, dir: "auto" }, card.title),
    card.body ? h("p", { class: "card-body", lang, dir: "auto" }, card.body) : null,
    translationBlock(card),
  );
  const badges = h("p", { class: "badges" });
  if (kept) badges.append(h("span", { class: "badge badge-kept" }, t.kept));
  if (card.status !== "visible") {
    badges.append(h("span", { class: `badge badge-${card.status}` }, data.statuses[card.status]));
  }
  if (card.dots > 0) badges.append(h("span", { class: "badge badge-dots" }, plural(t.dots, card.dots)));
  if (badges.childElementCount) block.append(badges);
  if (area) block.style.setProperty("--area-color", area.color);
  return block;
}

/** Run a pair's action; once the pair has left the list, focus goes to its neighbour. */
async function leave(pair, action) {
  const items = [...$("similar-pairs").children];
  const index = items.findIndex((item) => item.dataset.key === pairKey(pair));
  if (await action()) {
    view.leaving = { key: pairKey(pair), index };
    ctx.render();
  }
}

async function dismiss(pair) {
  try {
    await ctx.call("POST", "/duplicates/dismiss", { a: pair.a, b: pair.b });
  } catch (error) {
    ctx.say(error.message, true);
    return false;
  }
  view.dismissed.add(pairKey(pair));
  ctx.say(ctx.t.dismissed);
  return true;
}

function focusAfterRemoval() {
  const { leaving } = view;
  if (!leaving) return;
  const items = [...$("similar-pairs").children];
  // A merged pair leaves when the merge comes back through the live stream: wait for that draw.
  if (items.some((item) => item.dataset.key === leaving.key)) return;
  view.leaving = null;
  const active = document.activeElement;
  if (active && active !== document.body) return; // the moderator has gone elsewhere meanwhile
  const next = items[Math.min(leaving.index, items.length - 1)];
  // The last pair gone, the panel hides: the side bar says that there are none now.
  (next?.querySelector("button") ?? $("similar-control-heading")).focus();
}

// -- the similar cards of one card (from its menu) --------------------------------------------

let similarFor = null; // {id, opener}

/** Open the list of cards similar to `card`, each with a merge; `opener` gets focus back. */
export async function openSimilar(card, opener) {
  const { t } = ctx;
  similarFor = { id: card.id, opener };
  const dialog = $("similar-dialog");
  $("similar-dialog-title").replaceChildren(...formatIsolated(t.similar_to, { title: card.title }));
  $("similar-dialog-list").replaceChildren();
  setText($("similar-dialog-status"), t.loading);
  dialog.showModal();
  $("similar-dialog-close").focus();
  let found = [];
  try {
    found = (await ctx.call("GET", `/suggestions/${card.id}/similar`)).similar ?? [];
  } catch (error) {
    setText($("similar-dialog-status"), error.message);
    return;
  }
  if (similarFor?.id !== card.id || !dialog.open) return;
  drawSimilarList(card.id, found);
}

function drawSimilarList(id, found) {
  const { t } = ctx;
  const { cards, event } = ctx.state();
  const card = cards.get(id);
  const canMerge = Boolean(event) && staffMay(event, "merge") && mergeable(card);
  const items = found.filter((hit) => mergeable(cards.get(hit.id)));
  setText($("similar-dialog-status"), items.length ? "" : t.no_similar);
  const list = $("similar-dialog-list");
  for (const hit of items) {
    const other = cards.get(hit.id);
    const [kept, merged] = keeperOf(card, other);
    const keepsId = `similar-${other.id}-keeps`;
    const item = h(
      "li",
      { class: "similar-item" },
      cardBlock(other),
      h("p", { class: "pair-score" }, format(t.similarity, { percent: percent.format(hit.score) })),
    );
    if (canMerge) {
      item.append(
        h("p", { class: "pair-keeps", id: keepsId }, keepsText(kept, merged)),
        h(
          "button",
          {
            type: "button",
            "aria-describedby": keepsId,
            dataset: { into: String(other.id) },
            onclick: () => mergeFromDialog(merged.id, kept.id),
          },
          t.merge,
        ),
      );
    }
    list.append(item);
  }
}

function mergeFromDialog(id, into) {
  // The card the menu was opened for may be the one merged away: focus goes to the one kept.
  if (similarFor) similarFor.keep = into;
  $("similar-dialog").close();
  ctx.merge(id, into);
}

// -- suggested groups of one area -------------------------------------------------------------

let groupsFor = null; // {area, opener}

async function openGroups(area, opener) {
  const { t } = ctx;
  groupsFor = { area, opener };
  $("groups-dialog-title").replaceChildren(...formatIsolated(t.groups_in, { area: area.name }));
  $("groups-dialog-list").replaceChildren();
  setText($("groups-dialog-status"), t.loading);
  $("groups-dialog").showModal();
  $("groups-dialog-close").focus();
  await loadGroups(area);
}

async function loadGroups(area) {
  const { t } = ctx;
  let found = [];
  try {
    found = (await ctx.call("GET", `/groups?area_id=${encodeURIComponent(area.id)}`)).groups ?? [];
  } catch (error) {
    setText($("groups-dialog-status"), error.message);
    return;
  }
  if (groupsFor?.area.id !== area.id || !$("groups-dialog").open) return;
  const { cards, event } = ctx.state();
  const groups = found
    .map((group) => ({
      heading: cards.get(group.heading),
      others: group.suggestions
        .filter((id) => id !== group.heading)
        .map((id) => cards.get(id))
        .filter(mergeable),
    }))
    .filter((group) => mergeable(group.heading) && group.others.length);
  setText($("groups-dialog-status"), groups.length ? "" : t.no_groups);
  const canMerge = Boolean(event) && staffMay(event, "merge");
  $("groups-dialog-list").replaceChildren(...groups.map((group) => buildGroup(group, canMerge)));
}

function buildGroup({ heading, others }, canMerge) {
  const { t } = ctx;
  const headingId = `group-${heading.id}-heading`;
  const lang = (card) => ctx.data.languages?.[card.language] ?? null;
  const item = h(
    "li",
    { class: "group" },
    h("p", { class: "group-label" }, t.proposed_heading),
    h("p", { class: "card-title", id: headingId, lang: lang(heading), dir: "auto" }, heading.title),
    h(
      "ul",
      { class: "group-members" },
      others.map((card) => h("li", { lang: lang(card), dir: "auto" }, card.title)),
    ),
  );
  if (canMerge) {
    const describe = `group-${heading.id}-effect`;
    item.append(
      h("p", { class: "pair-keeps", id: describe }, plural(t.group_effect, others.length)),
      h(
        "button",
        {
          type: "button",
          "aria-describedby": `${headingId} ${describe}`,
          dataset: { heading: String(heading.id) },
          onclick: () => acceptGroup(heading, others),
        },
        t.accept,
      ),
    );
  }
  return item;
}

/** Merge every other card of a group into its heading, one merge each; Undo takes all back. */
async function acceptGroup(heading, others) {
  const merged = [];
  for (const card of others) {
    try {
      await ctx.call("POST", `/suggestions/${card.id}/merge`, { into: heading.id });
    } catch (error) {
      ctx.say(error.message, true);
      break;
    }
    merged.push(card.id);
  }
  if (merged.length) {
    ctx.say("");
    ctx.toast(plural(ctx.t.group_merged, merged.length), () => merged.forEach(ctx.unmerge));
  }
  if (groupsFor) {
    await loadGroups(groupsFor.area);
    const next = $("groups-dialog-list").querySelector("button");
    (next ?? $("groups-dialog-close")).focus();
  }
}

function returnFocus(dialog) {
  const state = dialog.id === "groups-dialog" ? groupsFor : similarFor;
  if (dialog.id === "groups-dialog") groupsFor = null;
  else similarFor = null;
  if (!state) return;
  if (state.keep) {
    // Merged from the list: the kept card's menu button, once the live stream has drawn it.
    $(`mcard-${state.keep}`)?.focus();
    return;
  }
  if (state.opener?.isConnected) state.opener.focus();
}

// -- a suggested area for cards without one ---------------------------------------------------

/** Where the server suggests moving `card` ({area, score}), or null. */
export function areaHintFor(card) {
  if (!view.on || card.area_id !== null || !cardAllows(card, "move")) return null;
  const hint = view.hints.get(card.id);
  const area = hint && ctx.state().event?.areas.find((candidate) => candidate.id === hint.area_id);
  return area ? { area, score: hint.score } : null;
}

/** The card's "Move to …" button (the card's key A does the same). */
export function areaHintButton(card, hint) {
  const button = h(
    "button",
    {
      type: "button",
      class: "secondary small area-hint",
      "aria-keyshortcuts": "A",
      dataset: { focus: "area-hint", area: String(hint.area.id) },
      dir: "auto",
      onclick: () => ctx.move(card.id, String(hint.area.id)),
    },
    h("span", { class: "swatch", "aria-hidden": "true" }),
    h("span", {}, formatIsolated(ctx.t.move_to_area, { area: hint.area.name })),
  );
  button.style.setProperty("--area-color", hint.area.color);
  return button;
}

/** Key A on a card: move it to its suggested area. False when it has none. */
export function acceptAreaHint(card) {
  const hint = areaHintFor(card);
  if (!hint) return false;
  ctx.move(card.id, String(hint.area.id));
  return true;
}
