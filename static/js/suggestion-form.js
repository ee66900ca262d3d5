// Writing suggestions on the attendee page: the form for a new card and the inline edit form.
// The server checks every field; these forms show its answer next to the field it names.

import { $, h, uuid } from "./dom.js";
import { localText } from "./translated.js";

/**
 * Wire the page's form for a new card (#submit-form). `onFiled(card)` gets what the server stored.
 * `queue` keeps cards that cannot be sent now: `queue.first()` says whether a new card must wait
 * behind others (offline, or others wait already), `queue.keeps(error)` whether a failed request
 * is worth sending again, `queue.add(body, error)` keeps one (to be sent with the same client id).
 * `similar` (optional) turns on the hint "Similar suggestions already exist" while typing: see
 * similar-hint.js for its `cardOf`, `isMine`, `languages` and `onMineToo`.
 * Returns the fields' length limits, which the edit form reuses, and `restore(body)`, which puts
 * a card the server refused later back into the form when the form is empty.
 */
export function initNewSuggestionForm({ api, t, onFiled, queue, similar = null }) {
  const fields = { title: $("new-title"), body: $("new-body"), area_id: $("new-area") };
  const draft = {
    api,
    t,
    onFiled,
    queue,
    fields,
    id: uuid(), // kept until the server has the draft, so a retry is stored only once
  };
  for (const name of ["title", "body"]) {
    fields[name].addEventListener("input", () => updateCounter(fields, name));
  }
  let hint = null;
  // Loaded only with hints on (see participant.js): a phone without them is lighter.
  if (similar) {
    import("./similar-hint.js").then(({ watchForSimilar }) => {
      hint = watchSimilar(draft, similar, watchForSimilar);
    });
  }
  $("submit-form").addEventListener("submit", (submitEvent) => {
    submitEvent.preventDefault();
    hint?.forget();
    submitDraft(draft);
  });
  return {
    limits: { title: fields.title.maxLength, body: fields.body.maxLength },
    restore: (body) => restoreDraft(fields, body),
  };
}

/** The hint while typing; offline, or with cards waiting to be sent, it stays quiet. */
function watchSimilar(draft, similar, watchForSimilar) {
  return watchForSimilar({
    ...similar,
    api: draft.api,
    t: draft.t,
    fields: draft.fields,
    canAsk: () => !draft.queue.first(),
    send: () => {
      // The hint's buttons are gone: focus waits on the form's own button while it sends.
      $("submit-button").focus();
      $("submit-form").requestSubmit();
    },
    discard: () => {
      draft.id = uuid();
      clearErrors(draft.fields);
      clearFields(draft.fields);
      chooseArea("");
      showDone(draft.t.similar_noted);
    },
  });
}

async function submitDraft(draft) {
  const { fields, queue, t } = draft;
  clearErrors(fields);
  // A hint only, so nobody files into an area by accident; the server judges the card.
  const missing = [];
  if (!fields.title.value.trim()) missing.push(["title", t.title_required]);
  if (!chosenArea()) missing.push(["area_id", t.area_required]);
  if (missing.length) {
    for (const [name, message] of missing) showFieldError(fields, name, message);
    focusField(fields, missing[0][0]);
    return;
  }
  const body = { client_id: draft.id, title: fields.title.value };
  if (fields.body.value.trim()) body.body = fields.body.value;
  if (chosenArea() !== NO_AREA) body.area_id = Number(chosenArea());
  if (queue.first()) {
    queue.add(body);
    nextDraft(draft, t.queued, body);
    return;
  }
  const button = $("submit-button");
  button.disabled = true;
  try {
    const card = await draft.api("POST", "/suggestions", body);
    nextDraft(draft, card.status === "pending" ? t.sent_pending : t.sent, body);
    draft.onFiled(card);
  } catch (error) {
    submitFailed(draft, body, error);
  } finally {
    button.disabled = false;
  }
}

function submitFailed(draft, body, error) {
  const { fields, queue } = draft;
  if (queue.keeps(error)) {
    queue.add(body, error);
    nextDraft(draft, draft.t.queued, body);
  } else if (error.field && fields[error.field]) {
    showFieldError(fields, error.field, error.message);
    focusField(fields, error.field);
  } else {
    $("submit-error").textContent = error.message;
    $("submit-error").hidden = false;
  }
}

/**
 * The draft `sent` has left the form (stored, or kept to be sent): start a new one. Text typed
 * since it was sent (the answer can come late) is already the next card's, so it stays.
 */
function nextDraft(draft, message, sent) {
  const { fields } = draft;
  draft.id = uuid();
  // The next card's area is chosen afresh: a kept choice filed cards where nobody meant them.
  if (chosenArea() === String(sent.area_id ?? NO_AREA)) chooseArea("");
  const body = fields.body.value.trim() ? fields.body.value : undefined;
  if (fields.title.value !== sent.title || body !== sent.body) {
    $("submit-done").textContent = message; // typing on: the keyboard stays where it is
    return;
  }
  clearFields(fields);
  showDone(message);
}

function clearFields(fields) {
  fields.title.value = "";
  fields.body.value = "";
  updateCounter(fields, "title");
  updateCounter(fields, "body");
}

/**
 * Say `message` where the person looks: focus on the confirmation (not on the title field,
 * which would reopen the keyboard), scrolled to the top so the new card shows below it.
 */
function showDone(message) {
  const done = $("submit-done");
  done.textContent = message;
  done.focus({ preventScroll: true });
  done.scrollIntoView({ block: "start" });
}

/** The value of an area's choice: "none" files the card without an area. */
export const NO_AREA = "none";

function areaChoices() {
  return [...$("new-area").querySelectorAll('input[name="area_id"]')];
}

/** The chosen area: an id as text, NO_AREA, or "" while nothing is chosen. */
function chosenArea() {
  return areaChoices().find((choice) => choice.checked)?.value ?? "";
}

function chooseArea(value) {
  for (const choice of areaChoices()) choice.checked = choice.value === value;
}

function focusField(fields, name) {
  if (name !== "area_id") fields[name].focus();
  else (areaChoices().find((choice) => choice.checked) ?? areaChoices()[0])?.focus();
}

function restoreDraft(fields, body) {
  if (fields.title.value || fields.body.value) return false;
  fields.title.value = body.title;
  fields.body.value = body.body ?? "";
  if (body.area_id) chooseArea(String(body.area_id));
  updateCounter(fields, "title");
  updateCounter(fields, "body");
  return true;
}

function updateCounter(fields, name) {
  const counter = $(`new-${name}-count`);
  const max = Number(counter.dataset.max);
  const length = fields[name].value.length;
  // Numbers read left to right even on a right-to-left page: the span says dir="ltr".
  counter.firstElementChild.textContent = `${length} / ${max}`;
  counter.classList.toggle("near-limit", length >= max * 0.9);
}

function errorOf(name) {
  return $(`new-${name === "area_id" ? "area" : name}-error`);
}

function showFieldError(fields, name, message) {
  errorOf(name).textContent = message;
  errorOf(name).hidden = false;
  // A group of radios takes no aria-invalid; its error is its description.
  if (name !== "area_id") fields[name].setAttribute("aria-invalid", "true");
}

function clearErrors(fields) {
  for (const [name, field] of Object.entries(fields)) {
    field.removeAttribute("aria-invalid");
    errorOf(name).hidden = true;
    errorOf(name).textContent = "";
  }
  $("submit-error").hidden = true;
  $("submit-done").textContent = "";
}

/**
 * An inline form that edits one of my cards. `onSaved(card)` gets the server's answer,
 * `onCancel()` runs on "Cancel"; errors stay in the form.
 */
export function editForm(card, { api, t, areas, limits, onSaved, onCancel, languages = [] }) {
  const prefix = `edit-${card.id}`;
  const title = h("input", {
    id: `${prefix}-title`,
    name: "title",
    maxlength: limits.title,
    required: true,
    dir: "auto",
    autocomplete: "off",
  });
  title.value = card.title;
  const body = h("textarea", {
    id: `${prefix}-body`,
    name: "body",
    maxlength: limits.body,
    rows: 3,
    dir: "auto",
  });
  body.value = card.body;
  const area = h("select", { id: `${prefix}-area`, name: "area_id" });
  fillAreaSelect(area, areas, String(card.area_id ?? ""), [h("option", { value: "" }, t.no_area)]);
  const language = languageSelect(`${prefix}-language`, card.language, languages, t);
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const editor = h(
    "form",
    { class: "stack edit-form", novalidate: true },
    h("label", { for: title.id }, t.title_label),
    title,
    h("label", { for: body.id }, t.body_label),
    body,
    h("label", { for: area.id }, t.area_label),
    area,
    language && h("label", { for: language.id }, t.language_label),
    language,
    error,
    h(
      "div",
      { class: "button-row" },
      h("button", { type: "submit" }, t.save),
      h("button", { type: "button", class: "secondary", onclick: onCancel }, t.cancel),
    ),
  );
  editor.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    const changes = {
      title: title.value,
      body: body.value,
      area_id: area.value ? Number(area.value) : null,
    };
    if (language && language.value !== (card.language ?? "")) changes.language = language.value;
    for (const field of [title, body, area]) field.removeAttribute("aria-invalid");
    try {
      onSaved(await api("PATCH", `/suggestions/${card.id}`, changes));
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      const field = { title, body, area_id: area, language }[failure.field];
      if (field) field.setAttribute("aria-invalid", "true");
    }
  });
  return editor;
}

/** "Language of this card": the event's languages, each in its own name; null without any. */
function languageSelect(id, current, languages, t) {
  const codes = [...languages];
  if (current && !codes.includes(current)) codes.push(current);
  if (!codes.length) return null;
  const options = codes.map((code) =>
    h("option", { value: code, lang: t.language_tags?.[code] ?? null }, t.language_names?.[code] ?? code),
  );
  const select = h("select", { id, name: "language" }, options);
  select.value = current ?? codes[0];
  return select;
}

/**
 * Rebuild an area <select> from the event's areas, between the options in `edges` (a first one,
 * and optionally a last one), keeping the choice made where it still exists.
 */
export function fillAreaSelect(select, areas, value, [first, last = null]) {
  const options = areas.map((area) =>
    h("option", { value: area.id, dir: "auto" }, localText(area, "name").text),
  );
  select.replaceChildren(first, ...options);
  if (last) select.append(last);
  select.value = value;
  if (select.selectedIndex < 0) select.selectedIndex = 0;
}

/** Rebuild the new card's area choices from the event's areas, keeping a choice still there. */
export function fillAreaChoices(areas) {
  const chosen = chosenArea();
  const choices = areas.map((area) =>
    h(
      "label",
      { class: "choice" },
      h("input", { type: "radio", name: "area_id", value: area.id }),
      h("span", { dir: "auto" }, localText(area, "name").text),
    ),
  );
  $("new-area-choices").replaceChildren(...choices);
  chooseArea(chosen);
}
