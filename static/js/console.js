// The live moderator console: the board's columns, the approval queue, phase, timer and screen
// controls, figures and the activity log. Everything on screen is drawn from the live stream
// (live.js); actions go to the JSON API and the server's answer comes back through the stream, so
// two moderators see the same. The server decides what is allowed; this page shows its message.

import { createApi } from "./api.js";
import { dotsBadge, groupByArea, NO_AREA } from "./cards.js";
import { enableDrag } from "./console-drag.js";
import { setupJoins } from "./console-joins.js";
import { marked, matches, searchKey, searching, setupSearch } from "./console-search.js";
import {
  acceptAreaHint,
  areaHintButton,
  areaHintFor,
  drawSimilar,
  openSimilar,
  setupSimilar,
  similarUpdate,
} from "./console-similar.js";
import {
  $,
  format,
  formatIsolated,
  h,
  number,
  oncePerFrame,
  pageData,
  pageLanguage,
  plural,
  reconcile,
  setText,
  showConnection,
  showLiveError,
} from "./dom.js";
import { follow } from "./live.js";
import { cardAllows } from "./rules.js";
import {
  correctionTargets,
  openCorrection,
  openLanguage,
  setupTranslation,
  translationBlock,
  translationUpdate,
} from "./console-translation.js";
import { placeToast, toast } from "./console-toast.js";
import { localText, textAttributes } from "./translated.js";

const data = pageData();
const t = data.strings;

let showHidden = true;
let language = ""; // show only cards written in this language ("" for all)
let carrying = null; // keyboard move: {id, index} while a card is picked up
let timer = null; // {seconds, at}: the countdown as last told by the server
const audit = new Map(); // id -> entry
let auditAvailable = false;

// -- talking to the server --------------------------------------------------------------------

/** One API call; a refusal throws ApiError with the server's translated message (and `card`). */
const call = createApi(`/api/v1/events/${encodeURIComponent(data.code)}`, t);

/** Run an API call; show its error in the status area. Returns the answer, or null on failure. */
async function act(method, path, body, success = "") {
  try {
    const answer = await call(method, path, body);
    say(success);
    return answer;
  } catch (error) {
    say(error.message, true);
    return null;
  }
}

function say(message, isError = false) {
  const box = $("console-status");
  box.textContent = message;
  box.classList.toggle("is-error", isError && Boolean(message));
}

function announce(message) {
  $("announcer").textContent = message;
}

const cardPath = (id) => `/suggestions/${id}`;
const areaKeyOf = (card) => (card.area_id === null || card.area_id === undefined ? NO_AREA : String(card.area_id));

/** Move card `id` to column `areaKey`; the toast next to the card offers Undo, which moves it
 * back through the same request (`undoable` false: the undo itself, said in the status line). */
async function moveCard(id, areaKey, undoable = true) {
  const card = live.state.cards.get(id);
  const from = card ? areaKeyOf(card) : null;
  const areaId = areaKey === NO_AREA ? null : Number(areaKey);
  const message = format(t.moved, { area: areaName(areaId) });
  const answer = await act("PATCH", cardPath(id), { area_id: areaId }, undoable ? "" : message);
  if (answer && undoable) {
    const undo = from !== null && from !== areaKey ? () => moveCard(id, from, false) : null;
    toast(message, undo, id);
  }
  return answer;
}
const setStatus = (id, status) => act("PATCH", cardPath(id), { status });
const unmerge = (id) => act("POST", `${cardPath(id)}/unmerge`, undefined, t.unmerged);
const setDisplay = (display) => act("PATCH", "", { display });

// A photo of a paper card: the file input is opened from the card's menu, and the upload goes
// to the server, which cleans and stores it; the mark on the card arrives through the stream.
const photoInput = $("photo-input");
function choosePhoto(id) {
  photoInput.dataset.card = String(id);
  photoInput.value = "";
  photoInput.click();
}
photoInput.addEventListener("change", () => {
  const file = photoInput.files?.[0];
  if (!file) return;
  const form = new FormData();
  form.append("photo", file);
  say(t.photo_uploading);
  act("PUT", `${cardPath(photoInput.dataset.card)}/photo`, form, t.photo_saved);
});
const removePhoto = (id) => act("DELETE", `${cardPath(id)}/photo`, undefined, t.photo_removed);

/** Merge card `id` into `into`, with Undo in the toast; true when the server merged them. */
async function mergeCard(id, into) {
  if (id === into) return false;
  const answer = await act("POST", `${cardPath(id)}/merge`, { into });
  if (answer) toast(t.merged, () => unmerge(id), into);
  return Boolean(answer);
}

// -- live state -------------------------------------------------------------------------------

const live = follow({
  code: data.code,
  role: "moderator",
  onUpdate: (state, update) => {
    if (update.type === "audit") addAudit([update.data]);
    similarUpdate(update);
    translationUpdate(update);
    if (update.type === "snapshot" || update.type === "event") {
      const left = state.event?.display?.timer?.seconds_left;
      timer = typeof left === "number" ? { seconds: left, at: performance.now() } : null;
    }
    render();
  },
  onConnection: (connected) => showConnection(connected ? null : t.reconnecting),
  onRefused: (message) => {
    showLiveError(message || t.unknown_error);
    showConnection(null);
  },
});

const render = oncePerFrame(draw);

function draw() {
  const { event, cards } = live.state;
  if (!event) return;
  const active = document.activeElement;
  const focusCard = active?.closest?.(".mcard")?.dataset.id;
  const focusKey = active?.dataset?.focus;

  setText($("console-title"), event.title);
  drawControls(event);
  drawFigures(event);
  const all = [...cards.values()].sort((a, b) => a.id - b.id);
  const spotlight = event.display?.spotlight ?? null;
  drawQueue(event, all, spotlight);
  drawColumns(event, all, spotlight);
  drawSearchResult(all);
  if (carrying) markCarryTarget();
  drawSimilar();
  drawAudit();
  sizeColumns();
  placeToast();

  // A card that moved was rebuilt in its new column: give focus back to it.
  if (focusCard && (!document.activeElement || document.activeElement === document.body)) {
    const card = $(`mcard-${focusCard}`);
    const inner = focusKey && card?.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`);
    (inner || card)?.focus();
  }
}

function drawQueue(event, all, spotlight) {
  const pending = all.filter((card) => card.status === "pending");
  // Post-moderation queues nothing: the box shows only while cards wait or could wait.
  $("queue").hidden = event.settings?.moderation !== "pre" && !pending.length;
  const queue = pending.filter(shown);
  setText($("queue-count"), number(queue.length));
  $("queue-empty").hidden = queue.length > 0;
  reconcile($("queue-cards"), queue, cardOptions(spotlight));
}

function drawColumns(event, all, spotlight) {
  const onBoard = all.filter((card) => (card.status === "visible" || card.status === "hidden") && shown(card));
  const groups = groupByArea(event.areas, onBoard);
  // "No area yet" first: it is the column a moderator sorts out of.
  const columns = [{ id: NO_AREA, area: null }, ...event.areas.map((area) => ({ id: String(area.id), area }))];
  const container = $("mcolumns");
  reconcile(container, columns, {
    key: (column) => column.id,
    signature: (column) => JSON.stringify(column.area),
    build: buildColumn,
  });
  for (const column of columns) {
    const section = container.querySelector(`:scope > [data-key="${column.id}"]`);
    fillColumn(section, groups.get(column.id), spotlight);
  }
  container.setAttribute("aria-busy", "false");
}

function fillColumn(section, group, spotlight) {
  const shown = group.filter((card) => showHidden || card.status !== "hidden");
  const hidden = group.length - group.filter((card) => card.status !== "hidden").length;
  let count = plural(t.cards_count, group.length - hidden);
  if (hidden) count += ` · ${plural(t.hidden_count, hidden)}`;
  setText(section.querySelector(".mcolumn-count"), count);
  section.querySelector(".empty").hidden = shown.length > 0;
  reconcile(section.querySelector(".mcards"), shown, cardOptions(spotlight));
}

function cardOptions(spotlight) {
  return {
    key: (card) => card.id,
    signature: (card) => JSON.stringify([card, card.id === spotlight, areaHintFor(card), searchKey()]),
    build: (card) => buildCard(card, card.id === spotlight),
  };
}

function buildColumn({ id, area }) {
  const headingId = `mcolumn-${id}`;
  const section = h(
    "section",
    {
      class: area ? "mcolumn" : "mcolumn no-area",
      "aria-labelledby": headingId,
      dataset: { area: id },
    },
    h(
      "header",
      { class: "mcolumn-head" },
      h("h3", { id: headingId, dir: "auto" }, area ? localText(area, "name").text : t.no_area),
      h("p", { class: "mcolumn-count" }),
    ),
    h("ul", { class: "mcards", "aria-labelledby": headingId }),
    h("p", { class: "empty" }, t.empty),
  );
  if (area) section.style.setProperty("--area-color", area.color);
  return section;
}

function buildCard(card, inSpotlight) {
  const classes = ["mcard", `status-${card.status}`];
  if (inSpotlight) classes.push("in-spotlight");
  if (carrying?.id === card.id) classes.push("carried");
  const item = h(
    "li",
    {
      class: classes.join(" "),
      id: `mcard-${card.id}`,
      tabindex: "0",
      draggable: "true",
      "aria-describedby": "drag-help",
      dataset: { id: String(card.id), focus: "card" },
    },
    // The title and the menu button share a row: the button takes its own room at the inline
    // end, so it never covers the start of a title written right to left.
    h(
      "div",
      { class: "mcard-head" },
      h("p", { class: "card-title", ...textAttributes(card.language) }, marked(card.title)),
      menuButton(card),
    ),
  );
  const area = areaOf(card);
  if (area) item.style.setProperty("--area-color", area.color);
  if (card.body) {
    item.append(h("p", { class: "card-body", ...textAttributes(card.language) }, marked(card.body)));
  }
  const translation = translationBlock(card);
  if (translation) item.append(translation);
  const badges = cardBadges(card, inSpotlight);
  if (badges.childElementCount) item.append(badges);
  if (card.merged_originals?.length) item.append(mergedOriginals(card.merged_originals));
  const actions = cardActions(card);
  if (actions.childElementCount) item.append(actions);
  const hint = areaHintFor(card);
  if (hint) {
    item.append(areaHintButton(card, hint));
    item.setAttribute("aria-keyshortcuts", "A");
    item.setAttribute("aria-describedby", "drag-help area-hint-help");
  }
  return item;
}

function cardBadges(card, inSpotlight) {
  const badges = h("p", { class: "badges" });
  if (card.status !== "visible") {
    badges.append(h("span", { class: `badge badge-${card.status}` }, data.statuses[card.status]));
  }
  if (inSpotlight) badges.append(h("span", { class: "badge badge-spotlight" }, t.on_board));
  if (typeof card.dots === "number" && card.dots > 0) badges.append(dotsBadge(card.dots, t));
  // Typed in by a helper from a handwritten card (the paper lane).
  if (card.from_paper) badges.append(h("span", { class: "badge badge-paper" }, t.from_paper));
  // The trail of follow-up events: where a card came from, and where it went on to.
  if (card.origin) badges.append(trailBadge(t.origin, card.origin));
  for (const step of card.followed_up ?? []) badges.append(trailBadge(t.followed_up, step));
  if (card.photo) badges.append(photoLink(card.photo));
  return badges;
}

/** A paper card's photo (staff only): a camera mark (console.css) that opens it in a new tab. */
function photoLink(photo) {
  return h(
    "a",
    { class: "badge badge-photo", href: photo.url, target: "_blank", rel: "noopener" },
    t.photo,
  );
}

function trailBadge(template, step) {
  const text = format(template, { event: step.event, id: step.suggestion });
  return h("span", { class: "badge badge-trail" }, text);
}

/** The cards merged into this one, each with a button that takes it out again. */
function mergedOriginals(originals) {
  const list = h("ul", { class: "merged-list" });
  for (const original of originals) {
    list.append(
      h(
        "li",
        { class: "merged-item" },
        h("span", { class: "merged-title", dir: "auto" }, original.title),
        h(
          "button",
          {
            type: "button",
            class: "secondary small",
            dataset: { focus: `unmerge-${original.id}` },
            onclick: () => unmerge(original.id),
          },
          t.undo_merge,
        ),
      ),
    );
  }
  return h("div", { class: "merged" }, h("p", { class: "merged-head" }, t.merged_from), list);
}

function cardActions(card) {
  const actions = h("div", { class: "mcard-actions" });
  // Waiting cards get both answers at hand; a visible card is hidden from its menu.
  if (cardAllows(card, "approve")) {
    actions.append(
      smallButton(t.approve, "approve", () => setStatus(card.id, "visible")),
      smallButton(t.hide, "hide", () => setStatus(card.id, "hidden")),
    );
  }
  if (cardAllows(card, "restore")) {
    actions.append(smallButton(t.restore, "restore", () => setStatus(card.id, "visible")));
  }
  return actions;
}

function menuButton(card) {
  const button = h(
    "button",
    {
      type: "button",
      class: "secondary menu-button",
      "aria-haspopup": "dialog",
      "aria-label": format(t.actions_for, { title: card.title }),
      dataset: { focus: "menu" },
      onclick: () => openMenu(card.id, button),
    },
    "⋯",
  );
  return button;
}

function smallButton(label, focus, onclick) {
  return h("button", { type: "button", class: "secondary small", dataset: { focus }, onclick }, label);
}

function areaOf(card) {
  return live.state.event?.areas.find((area) => area.id === card.area_id) ?? null;
}

function areaName(areaId) {
  return live.state.event?.areas.find((area) => area.id === areaId)?.name ?? t.no_area;
}

// -- controls ---------------------------------------------------------------------------------

function drawControls(event) {
  for (const button of document.querySelectorAll("[data-phase]")) {
    button.setAttribute("aria-pressed", String(button.dataset.phase === event.phase));
  }
  const display = event.display ?? {};
  for (const button of document.querySelectorAll("[data-display]")) {
    const pressed = display[button.dataset.display] === button.dataset.value;
    button.setAttribute("aria-pressed", String(pressed));
  }
  const spotlight = display.spotlight ? live.state.cards.get(display.spotlight) : null;
  $("spotlight-line").hidden = !display.spotlight;
  setText($("spotlight-title"), spotlight ? spotlight.title : display.spotlight ? `#${display.spotlight}` : "");
  drawTimer();
}

function drawFigures(event) {
  const counts = event.counts ?? {};
  setText($("figure-participants"), number(counts.participants ?? 0));
  setText($("figure-suggestions"), number(counts.suggestions ?? 0));
  setText($("figure-dots"), number(counts.dots ?? 0));
  staffFigure("not-voted", event.counts?.not_voted ?? event.figures?.not_voted);
  staffFigure("dots-unspent", event.counts?.dots_unspent ?? event.figures?.dots_unspent);
}

// A staff-only figure shows once the server sends it (an older server's snapshot may lack it).
function staffFigure(name, value) {
  $(`figure-${name}-box`).hidden = typeof value !== "number";
  if (typeof value === "number") setText($(`figure-${name}`), number(value));
}

function secondsLeft() {
  if (!timer) return null;
  return Math.max(0, Math.round(timer.seconds - (performance.now() - timer.at) / 1000));
}

function drawTimer() {
  const left = secondsLeft();
  const display = $("timer-display");
  display.classList.toggle("running", left !== null && left > 0);
  if (left === null) {
    setText(display, t.timer_off);
    return;
  }
  const minutes = Math.floor(left / 60);
  setText(display, `${minutes}:${String(left % 60).padStart(2, "0")}`);
}
setInterval(drawTimer, 1000);

for (const button of document.querySelectorAll("[data-timer]")) {
  button.addEventListener("click", () => setDisplay({ timer_seconds: Number(button.dataset.timer) }));
}
// The server adds to the running countdown, or starts one when none runs.
$("timer-add").addEventListener("click", () =>
  setDisplay({ timer_add_seconds: Number($("timer-add").dataset.timerAdd) }),
);
for (const button of document.querySelectorAll("[data-display]")) {
  button.addEventListener("click", () => setDisplay({ [button.dataset.display]: button.dataset.value }));
}
$("stop-spotlight").addEventListener("click", () => setDisplay({ spotlight: null }));
$("show-hidden").addEventListener("change", (event) => {
  showHidden = event.target.checked;
  render();
});
$("language-filter").addEventListener("change", (event) => {
  language = event.target.value;
  render();
});

/** Whether the language filter and the search let `card` be shown. */
function shown(card) {
  return (!language || card.language === language) && matches(card);
}

function drawSearchResult(all) {
  const found = searching() ? all.filter((card) => card.status !== "merged" && shown(card)) : null;
  setText($("card-search-result"), found ? plural(t.search_found, found.length) : "");
}

setupSearch({
  render,
  // Enter goes to the first card found, queue first, then the columns from the first.
  onEnter: () => document.querySelector("#queue:not([hidden]) .mcard, #mcolumns .mcard")?.focus(),
});

/** Give the columns the window's height below their top, so the row's scroll bar stays in view. */
function sizeColumns() {
  const row = $("mcolumns");
  const top = Math.round(row.getBoundingClientRect().top + window.scrollY);
  if (row.style.getPropertyValue("--columns-top") !== `${top}px`) {
    row.style.setProperty("--columns-top", `${top}px`);
  }
}
window.addEventListener("resize", render);
$("mcolumns").addEventListener("scroll", placeToast, { passive: true });

// Phase changes are announced to everyone in the room: ask first, saying what changes.
const phaseDialog = $("phase-dialog");
let chosenPhase = null;
for (const button of document.querySelectorAll("[data-phase]")) {
  button.addEventListener("click", () => {
    chosenPhase = button.dataset.phase;
    const name = data.phases[chosenPhase];
    $("phase-dialog-title").textContent = format(t.phase_title, { phase: name });
    $("phase-dialog-effect").textContent = data.phase_effects[chosenPhase] ?? "";
    phaseDialog.returnValue = "";
    phaseDialog.showModal();
    $("phase-confirm").focus();
  });
}
phaseDialog.addEventListener("close", () => {
  const phase = chosenPhase;
  document.querySelector(`[data-phase="${phase}"]`)?.focus();
  if (phaseDialog.returnValue !== "confirm" || !phase) return;
  act("PATCH", "", { phase }, format(t.phase_changed, { phase: data.phases[phase] }));
});

function drawAudit() {
  if (!auditAvailable) return;
  const entries = [...audit.values()].sort((a, b) => b.id - a.id).slice(0, 50);
  $("audit-empty").hidden = entries.length > 0;
  reconcile($("audit-entries"), entries, {
    key: (entry) => entry.id,
    signature: (entry) => JSON.stringify([entry, live.state.cards.get(entry.suggestion_id)?.title]),
    build: buildAuditEntry,
  });
}

const timeFormat = new Intl.DateTimeFormat(pageLanguage, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

function buildAuditEntry(entry) {
  const at = entry.at ? new Date(entry.at.endsWith("Z") ? entry.at : `${entry.at}Z`) : null;
  const user = entry.user;
  const who = (typeof user === "object" && user ? (user.username ?? user.name) : user) || t.someone;
  const item = h(
    "li",
    { class: "audit-entry" },
    at && !Number.isNaN(at.getTime())
      ? h("time", { datetime: at.toISOString() }, timeFormat.format(at))
      : null,
    " ",
    h("strong", { dir: "auto" }, String(who)),
    " ",
    data.audit_actions[entry.action] ?? entry.action,
  );
  if (entry.action === "pair_dismissed") {
    item.append(" ", auditPair(entry.details ?? {}));
  } else if (entry.suggestion_id) {
    const title = live.state.cards.get(entry.suggestion_id)?.title ?? entry.details?.title;
    const ref = title ? format(t.card_ref, { title }) : `#${entry.suggestion_id}`;
    item.append(" ", h("span", { class: "audit-card", dir: "auto" }, ref));
  }
  const to = entry.details?.to;
  if (entry.action === "phase_changed" && typeof to === "string") {
    item.append(" ", format(t.audit_to, { target: data.phases[to] ?? to }));
  } else if (entry.action === "language_changed" && typeof to === "string") {
    item.append(" ", format(t.audit_to, { target: data.language_names[to] ?? to }));
  } else if (entry.action === "card_merged" && entry.details?.into) {
    const into = live.state.cards.get(entry.details.into)?.title ?? entry.details.into_title;
    const target = into ? format(t.card_ref, { title: into }) : `#${entry.details.into}`;
    item.append(" ", h("span", { class: "audit-target", dir: "auto" }, format(t.audit_to, { target })));
  } else if (entry.action === "card_moved" && entry.details && "to" in entry.details) {
    const target = to?.name ?? t.no_area;
    item.append(" ", h("span", { dir: "auto" }, format(t.audit_to, { target })));
  }
  return item;
}

/** "“A” and “B”": the two cards a moderator said are not duplicates. */
function auditPair({ a, b }) {
  const title = (card) => live.state.cards.get(card?.id)?.title ?? card?.title ?? `#${card?.id}`;
  return h("span", { class: "audit-card" }, formatIsolated(t.audit_pair, { a: title(a), b: title(b) }));
}

function addAudit(entries) {
  for (const entry of entries) {
    if (entry && entry.id !== undefined) audit.set(entry.id, entry);
  }
  if (!auditAvailable && audit.size) {
    auditAvailable = true;
    $("audit").hidden = false;
  }
  render();
}

async function loadAudit() {
  try {
    const answer = await call("GET", "/audit");
    auditAvailable = true;
    $("audit").hidden = false;
    addAudit(answer?.entries ?? []);
  } catch {
    // No activity log on this server (404), or not for us: the panel stays hidden.
  }
}
loadAudit();

// -- similar cards (console-similar.js) -------------------------------------------------------

setupSimilar({
  call,
  t,
  data,
  state: () => live.state,
  merge: mergeCard,
  unmerge,
  move: moveCard,
  say,
  toast,
  areaOf,
  render,
});
setupTranslation({ call, live, say });
setupJoins({ call, say });

// -- the card menu ----------------------------------------------------------------------------

const menu = $("card-menu");
let menuCard = null;
let menuOpener = null;

function openMenu(id, opener) {
  const card = live.state.cards.get(id);
  if (!card) return;
  menuCard = id;
  menuOpener = opener;
  $("card-menu-title").textContent = card.title;
  const status = data.statuses[card.status] ?? card.status;
  $("card-menu-status").textContent = format(t.status_in, { status, area: areaName(card.area_id) });
  const actions = $("card-menu-actions");
  actions.replaceChildren(...menuActions(card));
  $("card-menu-areas").replaceChildren(...areaChoices(card));
  $("card-menu-search").value = "";
  drawTargets();
  menu.showModal();
  actions.querySelector("button")?.focus();
}

/** What the menu offers for `card`, each run after the menu closed. */
function menuActions(card) {
  const { id } = card;
  const buttons = [];
  const add = (action, label, handler) =>
    buttons.push(
      h("button", { type: "button", class: "secondary", dataset: { action }, onclick: () => run(handler) }, label),
    );
  if (cardAllows(card, "approve")) add("approve", t.approve, () => setStatus(id, "visible"));
  if (cardAllows(card, "hide")) add("hide", t.hide, () => setStatus(id, "hidden"));
  if (cardAllows(card, "restore")) add("restore", t.restore, () => setStatus(id, "visible"));
  add("edit", t.edit, () => openEdit(id));
  const opener = menuOpener;
  const fresh = () => live.state.cards.get(id) ?? card;
  if (correctionTargets(card).length) {
    add("correct-translation", t.correct_translation, () => openCorrection(fresh(), opener));
  }
  add("change-language", t.change_language, () => openLanguage(fresh(), opener));
  add("photo", card.photo ? t.replace_photo : t.add_photo, () => choosePhoto(id));
  if (card.photo) add("remove-photo", t.remove_photo, () => removePhoto(id));
  if (data.similarity) add("similar", t.similar_cards, () => openSimilar(card, menuOpener));
  if (live.state.event?.display?.spotlight === id) {
    add("stop-spotlight", t.stop_spotlight, () => setDisplay({ spotlight: null }));
  } else {
    add("spotlight", t.spotlight, () => setDisplay({ spotlight: id }));
  }
  for (const original of card.merged_originals ?? []) {
    add(`unmerge-${original.id}`, `${t.undo_merge}: ${original.title}`, () => unmerge(original.id));
  }
  return buttons;
}

/** One button per area (and "No area") to move `card` there. */
function areaChoices(card) {
  const choices = [...(live.state.event?.areas ?? []), { id: null, name: t.no_area, color: null }];
  return choices.map((area) => {
    const current = area.id === card.area_id;
    const key = area.id === null ? NO_AREA : String(area.id);
    return choiceButton(
      {
        class: "secondary area-choice",
        "aria-current": current ? "true" : null,
        dataset: { area: key },
        dir: "auto",
        onclick: () => run(() => moveCard(card.id, key)),
      },
      area.color,
      current ? `${localText(area, "name").text} ${t.current_area}` : localText(area, "name").text,
    );
  });
}

function drawTargets() {
  const query = $("card-menu-search").value.trim().toLocaleLowerCase();
  const list = $("card-menu-targets");
  list.replaceChildren();
  const candidates = [...live.state.cards.values()]
    .filter((card) => card.id !== menuCard && cardAllows(card, "merge"))
    .filter((card) => !query || `${card.title} ${card.body}`.toLocaleLowerCase().includes(query))
    .sort((a, b) => a.id - b.id)
    .slice(0, 30);
  for (const card of candidates) {
    const button = choiceButton(
      {
        class: "secondary merge-choice",
        dataset: { into: String(card.id) },
        onclick: () => run(() => mergeCard(menuCard, card.id)),
      },
      areaOf(card)?.color,
      h("span", { dir: "auto" }, card.title),
    );
    list.append(button);
  }
  if (!candidates.length) list.append(h("p", { class: "empty" }, t.no_matches));
}

/** A menu button with a swatch in `color` (an area's) before its label. */
function choiceButton(attributes, color, label) {
  const button = h(
    "button",
    { type: "button", ...attributes },
    h("span", { class: "swatch", "aria-hidden": "true" }),
    label,
  );
  if (color) button.style.setProperty("--area-color", color);
  return button;
}

$("card-menu-search").addEventListener("input", drawTargets);
$("card-menu-close").addEventListener("click", () => menu.close());
menu.addEventListener("close", () => {
  const opener = menuOpener;
  menuCard = null;
  menuOpener = null;
  if (opener?.isConnected) opener.focus();
  else if (opener) $(`mcard-${opener.closest?.(".mcard")?.dataset.id}`)?.focus();
});

function run(handler) {
  const opener = menuOpener;
  menu.close();
  menuOpener = opener;
  handler();
}

// -- editing ----------------------------------------------------------------------------------

const editDialog = $("edit-dialog");
let editing = null; // {id, version, opener}

function openEdit(id) {
  const card = live.state.cards.get(id);
  if (!card) return;
  editing = { id, version: card.version, opener: $(`mcard-${id}`) };
  $("edit-title").value = card.title;
  $("edit-body").value = card.body ?? "";
  $("edit-error").hidden = true;
  $("edit-current").hidden = true;
  editDialog.showModal();
  $("edit-title").focus();
}

$("edit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!editing) return;
  const body = { title: $("edit-title").value, body: $("edit-body").value, version: editing.version };
  $("edit-save").disabled = true;
  try {
    await call("PATCH", cardPath(editing.id), body);
    say(t.saved);
    editDialog.close();
  } catch (error) {
    $("edit-error").textContent = error.message;
    $("edit-error").hidden = false;
    if (error.code === "version_conflict" && error.card) {
      // Show what the card says now; saving again deliberately replaces it.
      editing.version = error.card.version;
      editing.fresh = error.card;
      $("edit-current-title").textContent = error.card.title;
      $("edit-current-body").textContent = error.card.body ?? "";
      $("edit-current").hidden = false;
    }
  } finally {
    $("edit-save").disabled = false;
  }
});
$("edit-take-current").addEventListener("click", () => {
  if (!editing?.fresh) return;
  $("edit-title").value = editing.fresh.title;
  $("edit-body").value = editing.fresh.body ?? "";
  $("edit-title").focus();
});
$("edit-cancel").addEventListener("click", () => editDialog.close());
editDialog.addEventListener("close", () => {
  const opener = editing?.opener;
  editing = null;
  const card = opener && $(opener.id);
  card?.focus();
});

// -- dragging and the keyboard ----------------------------------------------------------------

const boardRoot = document.querySelector(".console-main");
enableDrag(boardRoot, {
  scroller: $("mcolumns"),
  onMove: (id, areaKey) => {
    const card = live.state.cards.get(id);
    if (!card || areaKeyOf(card) === areaKey) return;
    moveCard(id, areaKey);
  },
  onMerge: (id, into) => mergeCard(id, into),
});

function columnKeys() {
  return [...$("mcolumns").children].map((column) => column.dataset.area);
}

function columnName(key) {
  return key === NO_AREA ? t.no_area : areaName(Number(key));
}

function markCarryTarget() {
  for (const column of $("mcolumns").children) {
    const target = Boolean(carrying) && column.dataset.area === columnKeys()[carrying.index];
    column.classList.toggle("drop-target", target);
    // The row scrolls sideways: bring the chosen column into view.
    if (target) column.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
}

function cancelCarry(message) {
  if (!carrying) return;
  $(`mcard-${carrying.id}`)?.classList.remove("carried");
  carrying = null;
  markCarryTarget();
  if (message) announce(message);
}

boardRoot.addEventListener("keydown", (event) => {
  const card = event.target.closest?.(".mcard");
  if (!card || event.target !== card || event.altKey || event.ctrlKey || event.metaKey) return;
  const carried = carrying && carrying.id === Number(card.dataset.id);
  if (carried ? carryKey(event, card) : cardKey(event, card)) event.preventDefault();
});

/** The arrow keys that go to the next and the previous column, as the page's direction reads. */
function sideways(card) {
  const rtl = getComputedStyle(card).direction === "rtl";
  return rtl ? ["ArrowLeft", "ArrowRight"] : ["ArrowRight", "ArrowLeft"];
}

/** A key on the card being carried: choose a column, drop, or cancel. True when it was used. */
function carryKey(event, card) {
  const id = Number(card.dataset.id);
  const [forward, backward] = sideways(card);
  const keys = columnKeys();
  if (event.key === forward || event.key === backward || event.key === "ArrowDown" || event.key === "ArrowUp") {
    const step = event.key === forward || event.key === "ArrowDown" ? 1 : -1;
    carrying.index = (carrying.index + step + keys.length) % keys.length;
    markCarryTarget();
    announce(format(t.over, { area: columnName(keys[carrying.index]) }));
  } else if (event.key === "Enter" || event.key === " ") {
    const target = keys[carrying.index];
    cancelCarry("");
    const current = live.state.cards.get(id);
    const from = current ? areaKeyOf(current) : NO_AREA;
    if (target !== from) {
      moveCard(id, target).then((answer) => {
        announce(answer ? format(t.moved, { area: columnName(target) }) : $("console-status").textContent);
      });
    } else announce(t.cancelled);
  } else if (event.key === "Escape" || event.key === "m") {
    cancelCarry(t.cancelled);
  } else {
    return false;
  }
  return true;
}

/** A key on a card at rest: open its menu, pick it up, or go to another card. */
function cardKey(event, card) {
  const id = Number(card.dataset.id);
  const [forward, backward] = sideways(card);
  if (event.key === "Enter" || event.key === " ") {
    openMenu(id, card.querySelector(".menu-button"));
  } else if (event.key === "m" || event.key === "M") {
    cancelCarry("");
    const keys = columnKeys();
    const inColumn = card.closest(".mcolumn")?.dataset.area;
    carrying = { id, index: Math.max(0, keys.indexOf(inColumn ?? keys[0])) };
    card.classList.add("carried");
    markCarryTarget();
    announce(format(t.picked, { title: live.state.cards.get(id)?.title ?? "" }));
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    const sibling = event.key === "ArrowDown" ? card.nextElementSibling : card.previousElementSibling;
    sibling?.focus();
  } else if (event.key === forward || event.key === backward) {
    focusNeighbourList(card, event.key === forward ? 1 : -1);
  } else if (event.key === "Home" || event.key === "End") {
    const list = card.parentElement;
    (event.key === "Home" ? list.firstElementChild : list.lastElementChild)?.focus();
  } else if (event.key === "a" || event.key === "A") {
    const current = live.state.cards.get(id);
    return Boolean(current) && acceptAreaHint(current);
  } else {
    return false;
  }
  return true;
}

boardRoot.addEventListener("focusout", (event) => {
  if (!carrying || event.target.dataset?.id !== String(carrying.id)) return;
  // Rebuilt by a live update: draw() gives focus back. Otherwise (a click, Tab) put it back.
  if (event.target.isConnected) cancelCarry(t.cancelled);
});

/** Focus the card at about the same position in the next non-empty list in `step` direction. */
function focusNeighbourList(card, step) {
  const lists = [...boardRoot.querySelectorAll(".mcards")].filter((list) => list.childElementCount);
  const index = lists.indexOf(card.parentElement);
  const position = [...card.parentElement.children].indexOf(card);
  const next = lists[index + step];
  if (!next) return;
  const target = next.children[Math.min(position, next.childElementCount - 1)];
  target?.focus();
}

// -- connection -------------------------------------------------------------------------------

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") live.resync();
});
