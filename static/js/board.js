// The projected board: one column per area, cards arriving and moving live, and the screens the
// moderator switches to (join, results, spotlight, countdown). Read-only.

import { dotsBadge, groupByArea, mergedBadge, NO_AREA, showsDots } from "./cards.js";
import {
  $,
  format,
  h,
  number,
  oncePerFrame,
  pageData,
  plural,
  reconcile,
  setText,
  showConnection,
  showLiveError,
} from "./dom.js";
import { follow } from "./live.js";
import { totalsShownIn } from "./rules.js";
import {
  animateChanges,
  autoScroll,
  measure,
  onMotionPreference,
  reducedMotion,
} from "./board-motion.js";
import {
  countdown,
  drawSpotlight,
  fullscreenToggle,
  resultsScreen,
} from "./board-screens.js";
import { localText, textAttributes, translationLines } from "./translated.js";
import { hyphenator } from "./hyphens.js";
import { condense, uncondense } from "./board-fit.js";

const data = pageData();
const t = data.strings;
const MAX_PER_ROW = 10;
const SCREENS = ["board", "join", "results"];
const seen = new Set(); // cards drawn before, so that only newcomers are highlighted
let drawnOnce = false;
let screen = "board";
let layout = "scroll";
let shown = null; // the screen drawn last time: cards animate only while the board stays up

const timer = countdown({
  box: $("timer"),
  value: $("timer-value"),
  done: $("timer-done"),
  doneText: t.time_up,
});
const results = resultsScreen({
  url: data.results_url,
  message: $("results-message"),
  body: $("results-body"),
  top: $("results-top"),
  areas: $("results-areas"),
  t,
});

// Long German words get soft hyphens for the narrow columns (display only); words the server
// marked later are put into the cards already shown.
const hyphens = hyphenator(data.hyphenation, () => {
  for (const node of $("columns").querySelectorAll(".board-card, .column-head h2")) {
    hyphens.apply(node);
  }
  render(); // hyphenated words take other room: the condensed board fits again
});

const live = follow({
  code: data.code,
  role: "board",
  onUpdate: (state, update) => {
    // The countdown restarts only from fresh event data: new figures copy the old event.
    if (update.type === "snapshot" || update.type === "event") {
      timer.set(state.event?.display?.timer ?? null);
    }
    const figuresOnly = update.type === "dots" && !update.data.totals;
    if (!figuresOnly || screen === "results") results.changed();
    render();
  },
  onConnection: (connected) => showConnection(connected ? null : t.reconnecting),
  onRefused: (message) => showLiveError(message || t.unknown_error),
});
showConnection(t.connecting);
fullscreenToggle($("fullscreen-button"));
hideChromeWhenIdle();
onMotionPreference(() => render());
autoScroll($("columns"), () => screen === "board" && layout === "scroll");
// Full screen or another window size: what fits the condensed board changes.
window.addEventListener("resize", () => render());
// A hook for the browser tests (and curious moderators): the live state and its socket.
window.__board = { live };

const render = oncePerFrame(draw);

function draw() {
  const { event, cards } = live.state;
  if (!event) return;
  const display = event.display ?? {};
  screen = SCREENS.includes(display.screen) ? display.screen : "board";
  // Under reduced motion nothing scrolls by itself: long columns condense and show everything.
  layout = display.layout === "condense" || reducedMotion() ? "condense" : "scroll";
  const theme = display.theme === "dark" ? "dark" : "light";
  document.body.className = [
    "board-page",
    `phase-${event.phase}`,
    `theme-${theme}`,
    `screen-${screen}`,
    `layout-${layout}`,
  ].join(" ");
  for (const name of SCREENS) $(`screen-${name}`).hidden = name !== screen;

  drawHeader(event);
  drawColumns(event, cards);
  results.update(screen === "results", event);

  const spotlit = display.spotlight == null ? null : (cards.get(display.spotlight) ?? null);
  const box = $("spotlight");
  if (drawSpotlight(box, spotlit, event, t) && !reducedMotion()) {
    box.animate([{ opacity: 0, transform: "scale(0.96)" }, { opacity: 1, transform: "none" }], {
      duration: 400,
      easing: "ease-out",
    });
  }
}

function drawHeader(event) {
  for (const id of ["board-title", "join-title", "results-event"]) setText($(id), event.title);
  // The question in the board's language where staff gave one.
  const question = localText(event, "question");
  for (const id of ["board-question", "join-question"]) {
    setText($(id), question.text);
    if (question.lang) $(id).lang = question.lang;
    else $(id).removeAttribute("lang");
    $(id).hidden = !question.text;
  }
  setText($("board-phase"), data.phases[event.phase] ?? event.phase);
  setText($("board-instruction"), instruction(event));
  lastEvent = event;
  drawOtherInstruction();
  setText($("figure-participants"), number(event.counts.participants));
  setText($("figure-suggestions"), number(event.counts.suggestions));
  setText($("figure-dots"), number(event.counts.dots));
}

function instruction(event, instructions = data.instructions) {
  const text = instructions[event.phase] ?? "";
  if (typeof text === "string") return text;
  return plural(text, event.settings?.vote_budget ?? 0);
}

// The instruction in the event's board languages, one after the other. The texts come
// translated from the server; the event's settings say which languages to show.
const ROTATE_MS = 8000;
let rotation = 0;
let lastEvent = null;

function drawOtherInstruction() {
  const box = $("board-instruction-other");
  const event = lastEvent;
  const codes = (event?.settings?.board_languages ?? []).filter(
    (code) => code in data.languages.others,
  );
  if (!event || !codes.length) {
    box.hidden = true;
    return;
  }
  const other = data.languages.others[codes[rotation % codes.length]];
  box.lang = other.lang;
  box.dir = other.dir;
  setText(box, instruction(event, other.instructions));
  box.hidden = false;
}

setInterval(() => {
  rotation += 1;
  drawOtherInstruction();
}, ROTATE_MS);

function drawColumns(event, cards) {
  const container = $("columns");
  const animate = drawnOnce && screen === "board" && shown === "board" && !reducedMotion();
  shown = screen;
  const before = animate ? measure(container) : null;

  const groups = sortedGroups(event, [...cards.values()]);
  const columns = event.areas.map((area) => ({ id: String(area.id), area }));
  // "No area" appears only while some card has none.
  if (groups.get(NO_AREA).length) columns.push({ id: NO_AREA, area: null });

  reconcile(container, columns, {
    key: (column) => column.id,
    signature: (column) => JSON.stringify(column.area),
    build: buildColumn,
  });
  for (const column of columns) fillColumn(container, column, groups.get(column.id), event);
  const shownColumns = turnTo(container, columns);
  // Up to ten columns side by side (eight areas and "No area" fit); more wrap into even rows.
  const rows = Math.ceil(shownColumns / MAX_PER_ROW) || 1;
  container.style.setProperty("--columns", String(Math.ceil(shownColumns / rows) || 1));
  container.style.setProperty("--rows", String(rows));
  if (layout === "condense" && screen === "board") condense(container, t.more_cards);
  else uncondense(container);
  if (before) animateChanges(container, before, $("ghosts"));
  container.setAttribute("aria-busy", "false");
  drawnOnce = true;
}

function sortedGroups(event, cards) {
  const groups = groupByArea(event.areas, cards);
  // Newest first while collecting; by dots once they are final, or while voting in the open.
  const dotsFirst = totalsShownIn(event) && Boolean(event.counts_visible);
  for (const group of groups.values()) group.sort(dotsFirst ? byDots : newestFirst);
  return groups;
}

function newestFirst(a, b) {
  return (b.created_at ?? "").localeCompare(a.created_at ?? "") || b.id - a.id;
}

function byDots(a, b) {
  return (b.dots ?? 0) - (a.dots ?? 0) || newestFirst(a, b);
}

function buildColumn({ id, area }) {
  const headingId = `column-${id}`;
  const section = h(
    "section",
    { class: area ? "column" : "column no-area", "aria-labelledby": headingId },
    h(
      "header",
      { class: "column-head" },
      area ? areaHeading(headingId, area) : h("h2", { id: headingId }, t.no_area),
      h("p", { class: "column-count" }),
    ),
    h("ul", { class: "column-cards" }),
    h("p", { class: "empty" }, t.empty),
    // What the condensed board could not fit in: "+N more" (board-fit.js).
    h("p", { class: "column-more", hidden: true }),
  );
  if (area) section.style.setProperty("--area-color", area.color);
  hyphens.apply(section.querySelector("h2"));
  return section;
}

/** An area's name in the board's language where staff gave one. */
function areaHeading(id, area) {
  const name = localText(area, "name", undefined, live.state.event?.settings?.default_language);
  return h("h2", { id, ...textAttributes(name.lang) }, name.text);
}

function fillColumn(container, column, cards, event) {
  const section = container.querySelector(`:scope > [data-key="${column.id}"]`);
  setText(section.querySelector(".column-count"), plural(t.cards_count, cards.length));
  section.querySelector(".empty").hidden = cards.length > 0;
  const list = section.querySelector(".column-cards");
  let arrived = false;
  reconcile(list, cards, {
    key: (card) => card.id,
    signature: (card) =>
      JSON.stringify([
        card,
        event.counts_visible,
        event.phase,
        event.settings?.default_language,
        event.settings?.board_translations,
      ]),
    build: (card) => {
      // Highlight cards that newly became visible, not what was there on the first draw.
      const fresh = drawnOnce && !seen.has(card.id);
      arrived ||= fresh;
      seen.add(card.id);
      return buildCard(card, event, fresh);
    },
  });
  if (arrived) list.dataset.toTop = "1"; // the scroller goes back up to show it
}

function buildCard(card, event, fresh) {
  const item = h(
    "li",
    { class: fresh ? "card board-card arrived" : "card board-card", id: `card-${card.id}` },
    h("h3", { class: "card-title", dir: "auto" }, card.title),
  );
  // A long detail is clamped on the board; the title attribute and the spotlight carry it whole.
  if (card.body) item.append(h("p", { class: "card-body", dir: "auto", title: card.body }, card.body));
  item.append(...translationLines(card, event));
  const badges = h("p", { class: "badges" });
  if (showsDots(card, event)) badges.append(dotsBadge(card.dots, t));
  if (card.merged_from.length) badges.append(mergedBadge(card, t));
  // The card's text is marked with its language; written in another language than the
  // event's default, it gets a small tag such as "AR".
  const language = data.languages.tags[card.language];
  if (language) {
    for (const node of item.querySelectorAll(".card-title, .card-body")) node.lang = language.lang;
  }
  if (language && card.language !== event.settings?.default_language) {
    badges.append(h("abbr", { class: "badge badge-language", title: language.name }, language.tag));
  }
  if (badges.childElementCount) item.append(badges);
  hyphens.apply(item);
  return item;
}

// The footer and the full-screen button cover the first and last columns: on a projector nobody
// touches, they go after a few seconds and come back with the mouse, a key or focus.
function hideChromeWhenIdle(idleMs = 4000) {
  let timer = 0;
  const wake = () => {
    document.body.dataset.idle = "off";
    clearTimeout(timer);
    timer = setTimeout(() => {
      document.body.dataset.idle = "on";
    }, idleMs);
  };
  for (const type of ["pointermove", "pointerdown", "keydown", "focusin", "touchstart"]) {
    document.addEventListener(type, wake, { passive: true, capture: true });
  }
  wake();
}

// Fewer, larger columns (the board's `?columns=N`, given by the server as `rotation`): the areas
// are shown a page at a time, and the page turns every `pages.seconds`.
const pages = data.rotation;
let rotating = false;
let page = 0;
let paused = false;
if (pages) {
  setInterval(() => {
    if (!rotating || paused) return;
    page += 1;
    render();
  }, pages.seconds * 1000);
  // Moving content must be pausable (WCAG 2.2.2): "P" holds the page and turns on again.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "p" && event.key !== "P") return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
    paused = !paused;
    $("rotation").classList.toggle("paused", paused);
    setText($("rotation-paused"), paused ? t.rotation_paused : "");
  });
}

/** Hide the columns not on the current page; how many columns are shown. */
function turnTo(container, columns) {
  rotating = Boolean(pages) && columns.length > pages.columns;
  const note = $("rotation");
  note.hidden = !rotating;
  document.body.classList.toggle("rotate-on", rotating);
  if (!rotating) {
    for (const section of container.children) section.hidden = false;
    return columns.length;
  }
  // Pages of even size: nine areas by four make pages of three, three and three.
  const count = Math.ceil(columns.length / pages.columns);
  const size = Math.ceil(columns.length / count);
  const first = (page % count) * size;
  const last = Math.min(first + size, columns.length);
  const before = container.dataset.page;
  columns.forEach((column, index) => {
    const section = container.querySelector(`:scope > [data-key="${column.id}"]`);
    section.hidden = index < first || index >= last;
  });
  container.dataset.page = String(page % count);
  setText($("rotation-text"), format(t.rotation, { first: first + 1, last, total: columns.length }));
  note.style.setProperty("--turn", `${pages.seconds}s`);
  if (before !== container.dataset.page && !reducedMotion()) {
    // The bar restarts with each page; it and the fade are left out under reduced motion.
    note.classList.remove("turning");
    void note.offsetWidth;
    note.classList.add("turning");
    container.animate([{ opacity: 0 }, { opacity: 1 }], { duration: 400, easing: "ease-out" });
  }
  return last - first;
}
