// The console's search across all cards: which cards hold every word typed (in the title, the
// details or a translation), and those words marked in a card's text. It only narrows what the
// console shows; the cards come from the live stream. Texts go in through text nodes.

import { $, h } from "./dom.js";

let words = []; // what was typed, lowercased, one entry per word

/** Follow the search field: `render()` on each change, `onEnter()` when Enter is pressed. */
export function setupSearch({ render, onEnter }) {
  const input = $("card-search");
  input.addEventListener("input", () => {
    words = lower(input.value).split(/\s+/u).filter(Boolean);
    render();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      onEnter();
    } else if (event.key === "Escape" && input.value) {
      // Escape empties the field first; a second Escape may close whatever is around it.
      event.preventDefault();
      input.value = "";
      input.dispatchEvent(new Event("input"));
    }
  });
}

/** True while something is typed into the search field. */
export function searching() {
  return words.length > 0;
}

/** The words searched for, for the signature of a card drawn with marks. */
export function searchKey() {
  return words.join(" ");
}

/** Whether `card` holds every word searched for (always, when nothing is). */
export function matches(card) {
  if (!words.length) return true;
  const translations = Object.values(card.translations ?? {});
  const texts = [card.title, card.body, ...translations.flatMap((entry) => [entry?.title, entry?.body])];
  const haystack = lower(texts.filter(Boolean).join("\n"));
  return words.every((word) => haystack.includes(word));
}

/** `text` as text nodes, with each word searched for in a <mark>. */
export function marked(text) {
  const value = String(text ?? "");
  const lowered = lower(value);
  // Lowercasing changes the length of a few letters (İ): then the positions would not match.
  if (!words.length || lowered.length !== value.length) return [value];
  const ranges = [];
  for (const word of words) {
    for (let at = lowered.indexOf(word); at >= 0; at = lowered.indexOf(word, at + word.length)) {
      ranges.push([at, at + word.length]);
    }
  }
  return split(value, merge(ranges));
}

function lower(text) {
  return String(text ?? "").toLocaleLowerCase();
}

/** Overlapping [start, end) ranges joined, in order. */
function merge(ranges) {
  const joined = [];
  for (const [start, end] of ranges.sort((a, b) => a[0] - b[0])) {
    const last = joined.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else joined.push([start, end]);
  }
  return joined;
}

function split(value, ranges) {
  const parts = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (start > at) parts.push(value.slice(at, start));
    parts.push(h("mark", {}, value.slice(start, end)));
    at = end;
  }
  if (at < value.length) parts.push(value.slice(at));
  return parts;
}
