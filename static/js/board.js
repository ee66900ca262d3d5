// The projected board: one column per area, cards arriving and moving live. Read-only.

import { h, number, pageData, plural, reconcile } from "./dom.js";
import { follow } from "./live.js";

const data = pageData();
const t = data.strings;
const $ = (id) => document.getElementById(id);
const NO_AREA = "none";
const MAX_PER_ROW = 10;
const seen = new Set(); // cards drawn before, so that only newcomers are highlighted
let drawnOnce = false;

const live = follow({
  code: data.code,
  role: "board",
  onUpdate: () => render(),
  onConnection: (connected) => showConnection(connected ? null : t.reconnecting),
  onRefused: (message) => {
    const box = $("live-error");
    box.textContent = message || t.unknown_error;
    box.hidden = false;
  },
});
showConnection(t.connecting);

let frame = 0;
function render() {
  if (!frame) frame = requestAnimationFrame(draw);
}

function draw() {
  frame = 0;
  const { event, cards } = live.state;
  if (!event) return;
  document.body.className = `board-page phase-${event.phase}`;
  setText($("board-title"), event.title);
  setText($("board-question"), event.question);
  $("board-question").hidden = !event.question;
  setText($("board-phase"), data.phases[event.phase] ?? event.phase);
  setText($("board-instruction"), data.instructions[event.phase] ?? "");
  setText($("figure-participants"), number(event.counts.participants));
  setText($("figure-suggestions"), number(event.counts.suggestions));
  setText($("figure-dots"), number(event.counts.dots));

  const groups = groupByArea(event, [...cards.values()]);
  const columns = event.areas.map((area) => ({ id: String(area.id), area }));
  // "No area" appears only while some card has none.
  if (groups.get(NO_AREA).length) columns.push({ id: NO_AREA, area: null });

  const container = $("columns");
  // Up to ten columns side by side (eight areas and "No area" fit); more wrap into even rows.
  const rows = Math.ceil(columns.length / MAX_PER_ROW) || 1;
  container.style.setProperty("--columns", String(Math.ceil(columns.length / rows) || 1));
  reconcile(container, columns, {
    key: (column) => column.id,
    signature: (column) => JSON.stringify(column.area),
    build: buildColumn,
  });
  for (const column of columns) fillColumn(container, column, groups.get(column.id), event);
  container.setAttribute("aria-busy", "false");
  drawnOnce = true;
}

function groupByArea(event, cards) {
  const groups = new Map(event.areas.map((area) => [String(area.id), []]));
  groups.set(NO_AREA, []);
  for (const card of cards) {
    (groups.get(String(card.area_id)) ?? groups.get(NO_AREA)).push(card);
  }
  for (const group of groups.values()) {
    // Results read best first; before that, cards keep the order they were filed in.
    if (event.phase === "results") group.sort(byDots);
    else group.sort((a, b) => a.id - b.id);
  }
  return groups;
}

function byDots(a, b) {
  return (b.dots ?? 0) - (a.dots ?? 0) || a.id - b.id;
}

function buildColumn({ id, area }) {
  const headingId = `column-${id}`;
  const section = h(
    "section",
    { class: area ? "column" : "column no-area", "aria-labelledby": headingId },
    h(
      "header",
      { class: "column-head" },
      h("h2", { id: headingId, dir: "auto" }, area ? area.name : t.no_area),
      h("p", { class: "column-count" }),
    ),
    h("ul", { class: "column-cards" }),
    h("p", { class: "empty" }, t.empty),
  );
  if (area) section.style.setProperty("--area-color", area.color);
  return section;
}

function fillColumn(container, column, cards, event) {
  const section = container.querySelector(`:scope > [data-key="${column.id}"]`);
  setText(section.querySelector(".column-count"), plural(t.cards_count, cards.length));
  section.querySelector(".empty").hidden = cards.length > 0;
  reconcile(section.querySelector(".column-cards"), cards, {
    key: (card) => card.id,
    signature: (card) => JSON.stringify([card, event.counts_visible, event.phase]),
    build: (card) => buildCard(card, event),
  });
}

function buildCard(card, event) {
  const item = h(
    "li",
    { class: "card", id: `card-${card.id}` },
    h("h3", { class: "card-title", dir: "auto" }, card.title),
  );
  if (card.body) item.append(h("p", { class: "card-body", dir: "auto" }, card.body));
  const badges = h("p", { class: "badges" });
  if (card.merged_from.length) {
    const text = plural(t.merged_from, card.merged_from.length);
    badges.append(h("span", { class: "badge badge-merged" }, text));
  }
  if (showsDots(card, event)) {
    const text = plural(t.dots, card.dots);
    badges.append(h("span", { class: "badge badge-dots", "data-dots": card.dots }, text));
  }
  if (badges.childElementCount) item.append(badges);
  // Highlight cards that newly became visible, not what was there on the first draw.
  if (drawnOnce && !seen.has(card.id)) item.classList.add("arrived");
  seen.add(card.id);
  return item;
}

/** Totals only where the server allows them; "0 dots" on every card while collecting is noise. */
function showsDots(card, event) {
  if (!event.counts_visible || card.dots === null || card.dots === undefined) return false;
  return card.dots > 0 || event.phase === "vote" || event.phase === "results";
}

function showConnection(message) {
  const mark = $("connection");
  mark.textContent = message ?? "";
  mark.hidden = !message;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
