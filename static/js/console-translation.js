// Translation in the console: a card's translation into the moderator's language under its
// original, the dialogs to correct a translation or a card's language, and a status line saying
// whether the server translates and how much is waiting. The server translates and decides;
// this module shows what it says and sends what the moderator typed.

import { $, format, h, pageData } from "./dom.js";
import { baseOf, reader, textAttributes, translationMark, translationOf } from "./translated.js";

const data = pageData();
const t = data.strings;
let ctx = null; // {call, live, say}

/** The card in the moderator's language, marked, under its original; null when none is needed. */
export function translationBlock(card, { bodies = true } = {}) {
  const translation = translationOf(card, reader);
  if (!translation) return null;
  const attributes = textAttributes(reader);
  return h(
    "div",
    { class: "card-translation" },
    h("p", { class: "translation-title", ...attributes }, translation.title),
    bodies && translation.body ? h("p", { class: "translation-body", ...attributes }, translation.body) : null,
    h("p", { class: "translation-mark" }, translationMark(translation, t)),
  );
}

/** Wire the dialogs and the status line; `call` is the console's API call. */
export function setupTranslation({ call, live, say }) {
  ctx = { call, live, say };
  $("translation-form").addEventListener("submit", saveCorrection);
  $("translation-language").addEventListener("change", fillCorrection);
  $("translation-cancel").addEventListener("click", () => $("translation-dialog").close());
  $("language-form").addEventListener("submit", saveLanguage);
  $("language-cancel").addEventListener("click", () => $("language-dialog").close());
  for (const dialog of [$("translation-dialog"), $("language-dialog")]) {
    dialog.addEventListener("close", () => giveFocusBack(dialog));
  }
  refreshStatus();
}

/** A live change: the status line follows card changes, at most once a second. */
export function translationUpdate(update) {
  if (update.type === "suggestion" || update.type === "snapshot" || update.type === "event") {
    clearTimeout(statusTimer);
    statusTimer = setTimeout(refreshStatus, 1000);
  }
}

let statusTimer = 0;

async function refreshStatus() {
  try {
    const state = await ctx.call("GET", "/translations");
    const text = state.on ? format(t.translation_on, { n: state.pending }) : t.translation_off;
    if ($("translation-status").textContent !== text) $("translation-status").textContent = text;
  } catch {
    // The status line is a convenience; the next change asks again.
  }
}

/** Back to the menu button that opened the dialog, or to the same card's, rebuilt meanwhile. */
function giveFocusBack(dialog) {
  const opener = dialog.opener;
  if (opener?.isConnected) opener.focus();
  else $(`mcard-${dialog.dataset.card}`)?.querySelector(".menu-button")?.focus();
}

function eventLanguages() {
  return ctx.live.state.event?.settings?.languages ?? [];
}

function languageOption(code) {
  return h("option", { value: code, lang: data.languages[code] ?? null }, data.language_names[code] ?? code);
}

// -- correcting a translation -----------------------------------------------------------------

let correcting = null; // the card whose translation is being corrected

/** The languages a card can be translated into: the event's, except the card's own. */
export function correctionTargets(card) {
  const own = baseOf(card.language);
  return [...new Set(eventLanguages().map(baseOf))].filter((code) => code !== own);
}

/** "Correct translation…": a language other than the card's own, title and body prefilled. */
export function openCorrection(card, opener) {
  const targets = correctionTargets(card);
  correcting = card;
  const select = $("translation-language");
  select.replaceChildren(...targets.map(languageOption));
  select.value = targets.includes(reader) ? reader : (targets[0] ?? "");
  $("translation-original").replaceChildren(
    h("span", { ...textAttributes(card.language) }, card.title),
  );
  fillCorrection();
  $("translation-error").hidden = true;
  const dialog = $("translation-dialog");
  dialog.opener = opener;
  dialog.dataset.card = String(card.id);
  dialog.showModal();
  $("translation-title").focus();
}

function fillCorrection() {
  const lang = $("translation-language").value;
  const current = correcting?.translations?.[lang];
  for (const field of ["title", "body"]) {
    const input = $(`translation-${field}`);
    input.value = current?.[field] ?? "";
    Object.assign(input, textAttributes(lang));
  }
}

async function saveCorrection(submitEvent) {
  submitEvent.preventDefault();
  if (!correcting) return;
  const lang = $("translation-language").value;
  const body = { title: $("translation-title").value, body: $("translation-body").value };
  await send($("translation-dialog"), $("translation-error"), () =>
    ctx.call("PUT", `/suggestions/${correcting.id}/translations/${encodeURIComponent(lang)}`, body),
  );
}

// -- changing a card's language ---------------------------------------------------------------

let relabelling = null;

/** "Change language…": the language the card is written in, among the event's languages. */
export function openLanguage(card, opener) {
  relabelling = card;
  const codes = [...eventLanguages()];
  if (card.language && !codes.includes(card.language)) codes.push(card.language);
  const select = $("language-select");
  select.replaceChildren(...codes.map(languageOption));
  select.value = card.language ?? codes[0] ?? "";
  $("language-original").replaceChildren(h("span", { ...textAttributes(card.language) }, card.title));
  $("language-error").hidden = true;
  const dialog = $("language-dialog");
  dialog.opener = opener;
  dialog.dataset.card = String(card.id);
  dialog.showModal();
  select.focus();
}

async function saveLanguage(submitEvent) {
  submitEvent.preventDefault();
  if (!relabelling) return;
  const language = $("language-select").value;
  await send($("language-dialog"), $("language-error"), () =>
    ctx.call("PATCH", `/suggestions/${relabelling.id}`, { language }),
  );
}

/** Send, then close the dialog and say "Saved.", or keep it open with the server's message. */
async function send(dialog, errorBox, request) {
  const button = dialog.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    await request();
    ctx.say(t.saved);
    dialog.close();
  } catch (error) {
    errorBox.textContent = error.message;
    errorBox.hidden = false;
  } finally {
    button.disabled = false;
  }
}
