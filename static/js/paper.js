// The paper lane on a tablet: enter handwritten cards fast, and record dots for a person at the
// desk by their seat code. The server decides every rule; this page shows what it answers.

import { createApi } from "./api.js";
import { $, format, h, pageData, plural, setText, uuid } from "./dom.js";

const data = pageData();
const strings = data.strings;
const api = createApi(`/api/v1/events/${encodeURIComponent(data.code)}`, strings);
const areaNames = new Map(data.areas.map((area) => [String(area.id), area.name]));

for (const label of document.querySelectorAll(".paper-area[data-area]")) {
  const area = data.areas.find((item) => String(item.id) === label.dataset.area);
  if (area) label.style.setProperty("--area-color", area.color);
}

// -- modes ----------------------------------------------------------------------------------------

function showMode(dots) {
  $("mode-cards").setAttribute("aria-pressed", String(!dots));
  $("mode-dots").setAttribute("aria-pressed", String(dots));
  $("cards-mode").hidden = dots;
  $("dots-mode").hidden = !dots;
  (dots ? $("seat-code") : $("paper-title")).focus();
}
$("mode-cards").addEventListener("click", () => showMode(false));
$("mode-dots").addEventListener("click", () => showMode(true));

// -- entering cards -------------------------------------------------------------------------------

const form = $("paper-form");
const title = $("paper-title");

function inTextField(target) {
  return target.matches?.("input:not([type=radio]), textarea, select, [contenteditable]");
}

document.addEventListener("keydown", (event) => {
  if ($("cards-mode").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape" && inTextField(event.target)) {
    // Leave the text field, so that the next number key chooses the area.
    event.target.blur();
    form.querySelector("input[name=area]:checked")?.focus({ preventScroll: true });
    return;
  }
  if (!/^[0-9]$/.test(event.key) || inTextField(event.target)) return;
  const radio = form.querySelector(`input[name=area][data-key="${event.key}"]`);
  if (!radio) return;
  event.preventDefault();
  radio.checked = true;
  title.focus();
});

function showError(box, message) {
  box.hidden = !message;
  setText(box, message || "");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const chosen = form.querySelector("input[name=area]:checked")?.value || null;
  const card = {
    client_id: uuid(),
    title: title.value,
    body: $("paper-body").value,
    area_id: chosen === null ? null : Number(chosen),
  };
  if ($("paper-language").value) card.language = $("paper-language").value;
  const photo = $("paper-photo").files[0];
  // Clear at once for the next card; on failure the text comes back.
  title.value = "";
  $("paper-body").value = "";
  $("paper-photo").value = "";
  title.focus();
  let saved;
  try {
    saved = await api("POST", "/paper/suggestions", card);
    showError($("paper-error"), "");
    addEntered(saved);
  } catch (error) {
    if (!title.value) title.value = card.title;
    if (!$("paper-body").value) $("paper-body").value = card.body;
    showError($("paper-error"), error.message);
    return;
  }
  if (photo) await sendPhoto(saved, photo);
});

// The card is in; its photo follows. A refused photo (too large, not a photo) leaves the card.
async function sendPhoto(card, photo) {
  const body = new FormData();
  body.append("photo", photo);
  setText($("entered-status"), strings.photo_uploading);
  try {
    await api("PUT", `/suggestions/${card.id}/photo`, body);
    setText($("entered-status"), strings.photo_saved);
  } catch (error) {
    showError($("paper-error"), error.message);
  }
}

function addEntered(card) {
  const area = areaNames.get(String(card.area_id)) ?? strings.no_area;
  const undo = h(
    "button",
    { type: "button", class: "secondary", "aria-label": format(strings.undo_label, card) },
    strings.undo,
  );
  const item = h(
    "li",
    { dataset: { id: card.id } },
    h("span", { class: "paper-entered-title", dir: "auto" }, card.title),
    h("span", { class: "paper-entered-area", dir: "auto" }, area),
    h("span", { class: "paper-mark" }, strings.from_paper),
    undo,
  );
  undo.addEventListener("click", () => withdraw(card, item, undo));
  $("entered").prepend(item);
  setText($("entered-status"), format(strings.saved, card));
}

async function withdraw(card, item, button) {
  button.disabled = true;
  try {
    await api("POST", `/paper/suggestions/${card.id}/withdraw`, {});
    item.classList.add("withdrawn");
    button.replaceWith(h("span", { class: "paper-withdrawn" }, strings.withdrawn));
    title.focus();
  } catch (error) {
    button.disabled = false;
    showError($("paper-error"), error.message);
  }
}

// -- dots at the desk -----------------------------------------------------------------------------

let seatCode = null;
let seat = null;

$("seat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = $("seat-code").value;
  try {
    seat = await api("POST", "/desk/seat", { seat_code: code });
    seatCode = code;
    showError($("seat-error"), "");
    drawSeat();
  } catch (error) {
    seat = null;
    $("seat-view").hidden = true;
    showError($("seat-error"), error.message);
  }
});

$("seat-next").addEventListener("click", () => {
  seat = null;
  seatCode = null;
  $("seat-code").value = "";
  $("seat-view").hidden = true;
  $("seat-next").hidden = true;
  showError($("seat-error"), "");
  $("seat-code").focus();
});

function drawSeat() {
  $("seat-view").hidden = false;
  $("seat-next").hidden = false;
  setText($("seat-left"), format(strings.dots_left, { left: seat.dots_left, budget: seat.dots_budget }));
  const open = (data.rules.participant[seat.phase] ?? []).includes("vote");
  $("seat-closed").hidden = open;
  const groups = new Map();
  for (const card of seat.suggestions) {
    const key = card.area_id === null ? "" : String(card.area_id);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(card);
  }
  const sections = [...groups].map(([key, cards]) =>
    h(
      "section",
      { class: "seat-area" },
      h("h3", { dir: "auto" }, areaNames.get(key) ?? strings.no_area),
      h("ul", {}, cards.map((card) => seatCard(card, open))),
    ),
  );
  $("seat-cards").replaceChildren(...(sections.length ? sections : [h("p", {}, strings.no_cards)]));
}

function seatCard(card, open) {
  const button = (delta, label, text) =>
    h(
      "button",
      {
        type: "button",
        class: "dot-button",
        "aria-label": format(label, card),
        disabled: !open || (delta < 0 && card.dots_mine === 0),
        onclick: () => giveDots(card, card.dots_mine + delta),
      },
      text,
    );
  return h(
    "li",
    { class: "seat-card", dataset: { id: card.id } },
    h("span", { class: "seat-card-title", dir: "auto" }, card.title),
    card.from_paper ? h("span", { class: "paper-mark" }, strings.from_paper) : null,
    h(
      "span",
      { class: "seat-dots" },
      button(-1, strings.less, "−"),
      h("output", {}, plural(strings.dots_mine, card.dots_mine)),
      button(1, strings.more, "+"),
    ),
  );
}

async function giveDots(card, dots) {
  try {
    const answer = await api("PUT", `/desk/suggestions/${card.id}/dots`, { seat_code: seatCode, dots });
    card.dots_mine = answer.dots;
    seat.dots_left = answer.dots_left;
    showError($("seat-error"), "");
    drawSeat();
    document.querySelector(`.seat-card[data-id="${card.id}"] .dot-button:not([disabled])`)?.focus();
  } catch (error) {
    showError($("seat-error"), error.message);
  }
}

// Start outside the text fields, so that the first number key chooses the area.
form.querySelector("input[name=area]:checked")?.focus();
