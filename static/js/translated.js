// What a reader sees of a text written in another language: its translation into the reader's
// language where the server has one, marked as such, with the original a tap away. The server
// translates; this module only picks the entry for the reader. Texts go in through textContent.

import { h, pageData } from "./dom.js";

const rtl = new Set(pageData().rtl ?? []);

/** The language a code's text is in: plain German (`de@simple`, tag `de`) reads German. */
export function baseOf(code) {
  return code ? code.split("@")[0].split("-")[0].split("_")[0] : null;
}

/** The reader: the page's interface language, as a base code. */
export const reader = baseOf(document.documentElement.lang || "de");

/** `lang` and `dir` for a text written in `code` (`dir="auto"` when the language is unknown). */
export function textAttributes(code) {
  const lang = baseOf(code);
  if (!lang) return { dir: "auto" };
  return { lang, dir: rtl.has(lang) ? "rtl" : "ltr" };
}

/** A card's translation into `lang` ({title, body, machine}), or null when it is written in that
 * language or has no translation into it yet. */
export function translationOf(card, lang = reader) {
  if (!card?.language || baseOf(card.language) === lang) return null;
  return card.translations?.[lang] ?? null;
}

/** An event text (`item[field]`, e.g. an area's name) in `lang` where staff gave one: {text, lang}. */
export function localText(item, field, lang = reader, originalLanguage = null) {
  const entry = item?.translations?.[lang]?.[field];
  if (entry) return { text: entry, lang };
  return { text: item?.[field] ?? "", lang: originalLanguage };
}

/** "Machine translation" or "Translation checked by the moderator". */
export function translationMark(translation, t) {
  return translation.machine ? t.machine_translation : t.checked_translation;
}

/**
 * A card's title (as `titleTag` with `titleId`), body and, for a translated card, a note with the
 * mark and a "Show original" toggle. `original` says whether the original is shown; `onToggle`
 * flips it (the page keeps the state, so that a live redraw keeps it too).
 */
export function cardTexts(card, t, { titleTag = "h3", titleId = null, original = false, onToggle }) {
  const translation = translationOf(card);
  const shown = translation && !original ? translation : card;
  const attributes = textAttributes(shown === card ? card.language : reader);
  const nodes = [h(titleTag, { class: "card-title", id: titleId, ...attributes }, shown.title)];
  if (shown.body) nodes.push(h("p", { class: "card-body", ...attributes }, shown.body));
  if (translation) {
    nodes.push(
      h(
        "p",
        { class: "translation-note" },
        h("span", { class: "badge badge-translation" }, translationMark(translation, t)),
        " ",
        h(
          "button",
          {
            type: "button",
            class: "link",
            "aria-pressed": String(Boolean(original)),
            dataset: { focus: "original" },
            onclick: onToggle,
          },
          t.show_original,
        ),
      ),
    );
  }
  return nodes;
}

/** The card's title (and, with `bodies`, its body) in each of the event's board languages other
 * than its own, smaller under the original, for the hall. */
export function translationLines(card, event, { className = "card-translation", bodies = false } = {}) {
  const own = baseOf(card.language);
  if (!own) return [];
  const wanted = [...new Set((event.settings?.board_translations ?? []).map(baseOf))];
  return wanted
    .filter((lang) => lang !== own && card.translations?.[lang])
    .map((lang) => {
      const { title, body } = card.translations[lang];
      const line = h("p", { class: className, ...textAttributes(lang) }, title);
      if (bodies && body) line.append(h("span", { class: `${className}-body` }, body));
      return line;
    });
}
