// The board's other faces: the spotlight, the countdown, the results screen and full screen.
// They show what the server says; ranks and the top ten come ready-made from the API.

import { dotsBadge, mergedBadge, showsDots } from "./cards.js";
import { h, plural } from "./dom.js";
import { localText, textAttributes, translationLines } from "./translated.js";

/** Show `card` full-screen in `box` (or hide the box when `card` is null). */
export function drawSpotlight(box, card, event, t) {
  if (!card) {
    box.hidden = true;
    box.replaceChildren();
    delete box.dataset.card;
    return false;
  }
  const area = event.areas.find((a) => a.id === card.area_id) ?? null;
  const signature = JSON.stringify([
    card,
    area,
    event.counts_visible,
    event.phase,
    event.settings?.board_translations,
  ]);
  if (box.dataset.signature === signature && !box.hidden) return false;
  const opened = box.hidden || box.dataset.card !== String(card.id);
  box.dataset.signature = signature;
  box.dataset.card = String(card.id);
  if (area) box.style.setProperty("--area-color", area.color);
  else box.style.removeProperty("--area-color");
  const badges = h("p", { class: "spotlight-badges" });
  if (showsDots(card, event)) badges.append(dotsBadge(card.dots, t));
  if (card.merged_from.length) badges.append(mergedBadge(card, t));
  box.replaceChildren(
    h(
      "div",
      { class: "spotlight-card", id: "spotlight-card", "data-id": card.id },
      spotlightArea(area, event, t),
      h("h2", { class: "spotlight-title", ...textAttributes(card.language) }, card.title),
      card.body
        ? h("p", { class: "spotlight-body", ...textAttributes(card.language) }, card.body)
        : null,
      ...translationLines(card, event, { className: "spotlight-translation", bodies: true }),
      badges.childElementCount ? badges : null,
    ),
  );
  box.hidden = false;
  return opened;
}

function spotlightArea(area, event, t) {
  if (!area) return h("p", { class: "spotlight-area" }, t.no_area);
  const name = localText(area, "name", undefined, event.settings?.default_language);
  return h("p", { class: "spotlight-area", ...textAttributes(name.lang) }, name.text);
}

// The countdown is shared with the attendee page, which cannot afford this module's weight.
export { clock, countdown } from "./dom.js";

/**
 * The results screen: fetched from the API when shown, and again (at most every `every` ms)
 * while it stays up and totals change. A 403 before the phase `results` shows a calm note.
 */
export function resultsScreen({ url, message, body, top, areas, t, every = 2000 }) {
  const screen = {
    url,
    every,
    t,
    nodes: { message, body, top, areas },
    event: null, // gives area names and colours
    active: false,
    last: 0, // when the last fetch started
    timer: 0,
    running: false,
    again: false, // asked for again while a fetch was running
  };
  // Full screen or another window size: the type that fits changes.
  window.addEventListener("resize", () => {
    if (screen.active && !body.hidden) fitResults(screen.nodes);
  });
  return {
    /** Show or hide the screen; `event` gives area names and colours. */
    update(isActive, event) {
      screen.event = event;
      if (isActive && !screen.active) {
        screen.active = true;
        if (body.hidden) showNote(screen, t.results_loading);
        loadResults(screen);
        return;
      }
      screen.active = isActive;
    },
    /** Totals or cards changed: fetch again, throttled. */
    changed() {
      if (screen.active) requestResults(screen);
    },
  };
}

async function loadResults(screen) {
  if (screen.running) {
    screen.again = true;
    return;
  }
  screen.running = true;
  screen.last = performance.now();
  const { t } = screen;
  try {
    const response = await fetch(screen.url, { headers: { Accept: "application/json" } });
    if (!screen.active) return;
    if (response.status === 403) {
      showNote(screen, t.results_locked);
    } else if (!response.ok) {
      showNote(screen, t.unknown_error);
    } else {
      drawResults(screen, await response.json());
    }
  } catch {
    if (screen.active) showNote(screen, t.unknown_error);
  } finally {
    screen.running = false;
    if (screen.again && screen.active) {
      screen.again = false;
      requestResults(screen);
    }
  }
}

function requestResults(screen) {
  if (!screen.active || screen.timer) return;
  const wait = Math.max(0, screen.last + screen.every - performance.now());
  screen.timer = setTimeout(() => {
    screen.timer = 0;
    loadResults(screen);
  }, wait);
}

function showNote({ nodes }, text) {
  nodes.message.textContent = text;
  nodes.message.hidden = false;
  nodes.body.hidden = true;
}

function drawResults({ nodes, t, event }, results) {
  const colors = new Map((event?.areas ?? []).map((area) => [area.id, area.color]));
  const names = new Map((event?.areas ?? []).map((area) => [area.id, localText(area, "name").text]));
  const best = Math.max(1, ...results.top.map((entry) => entry.dots));
  nodes.top.replaceChildren(
    ...results.top.map((entry) =>
      rankRow(entry, best, t, {
        area: entry.area_id === null ? t.no_area : (names.get(entry.area_id) ?? ""),
        areaId: entry.area_id,
        color: colors.get(entry.area_id),
      }),
    ),
  );
  if (!results.top.length) nodes.top.append(h("li", { class: "ranking-empty" }, t.results_empty));
  nodes.areas.replaceChildren(...results.areas.map((area) => areaResults(area, colors, t)));
  // Up to nine groups in three columns (three rows), more in four to six, a few in two; many
  // groups take more of the width from the top ten.
  const count = results.areas.length;
  const columns = [20, 12, 9, 4].findIndex((most) => count > most);
  nodes.areas.style.setProperty("--area-columns", String(columns < 0 ? 2 : 6 - columns));
  nodes.body.classList.toggle("results-many", count > 6);
  nodes.message.hidden = true;
  nodes.body.hidden = false;
  fitResults(nodes);
}

/**
 * Shrink the type of the top ten and of the areas, each in small steps, until it fits the
 * screen: a projector cannot scroll, and a room may have thirty areas or long ties.
 */
function fitResults({ top, areas }) {
  for (const box of [top, areas]) {
    let scale = 1;
    box.style.setProperty("--fit-scale", "1");
    while (scale > 0.55 && overflows(box)) {
      scale -= 0.05;
      box.style.setProperty("--fit-scale", scale.toFixed(2));
    }
  }
}

/** The box's content is taller than the box (on narrow screens the box grows and never is). */
function overflows(box) {
  return box.scrollHeight > box.clientHeight + 1;
}

/** One area's best three cards, and how many more it has. */
function areaResults(area, colors, t) {
  const shown = area.suggestions.slice(0, 3);
  const most = Math.max(1, ...shown.map((entry) => entry.dots));
  const rest = area.suggestions.length - shown.length;
  const section = h(
    "section",
    { class: "results-area", "data-area": area.id ?? "none" },
    h("h3", { dir: "auto" }, area.name ?? t.no_area),
    h("ol", { class: "ranking ranking-small" }, ...shown.map((e) => rankRow(e, most, t))),
    rest > 0 ? h("p", { class: "results-more" }, plural(t.more, rest)) : null,
    shown.length ? null : h("p", { class: "results-more" }, t.empty),
  );
  const color = colors.get(area.id);
  if (color) section.style.setProperty("--area-color", color);
  return section;
}

/** One card in a ranking; a card without dots has no rank (null) and shows "–". */
function rankRow(entry, best, t, { area = null, areaId, color = null } = {}) {
  const bar = h("span", { class: "bar", "aria-hidden": "true" }, h("span", { class: "bar-fill" }));
  bar.style.setProperty("--share", String(entry.dots / best));
  const place = h("span", { class: "visually-hidden" }, `${t.place} `);
  const rank =
    entry.rank === null
      ? h("span", { class: "rank rank-none", "aria-hidden": "true" }, "–")
      : h("span", { class: "rank" }, place, entry.rank);
  const row = h(
    "li",
    {
      class: "rank-row",
      "data-rank": entry.rank,
      "data-id": entry.id,
      "data-area": areaId === null ? "none" : null,
    },
    rank,
    h(
      "span",
      { class: "rank-text" },
      h("span", { class: "rank-title", dir: "auto" }, entry.title),
      area ? h("span", { class: "rank-area", dir: "auto" }, area) : null,
    ),
    bar,
    h("span", { class: "rank-dots" }, plural(t.dots, entry.dots)),
  );
  if (color) row.style.setProperty("--area-color", color);
  return row;
}

/** Full screen with the F key and a button; `<body data-fullscreen>` mirrors the state. */
export function fullscreenToggle(button) {
  function toggle() {
    if (document.fullscreenElement) document.exitFullscreen?.().catch(() => {});
    else document.documentElement.requestFullscreen?.().catch(() => {});
  }
  button.addEventListener("click", toggle);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "f" && event.key !== "F") return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
    event.preventDefault();
    toggle();
  });
  document.addEventListener("fullscreenchange", () => {
    const on = Boolean(document.fullscreenElement);
    document.body.dataset.fullscreen = on ? "on" : "off";
    button.setAttribute("aria-pressed", String(on));
  });
  document.body.dataset.fullscreen = "off";
}
