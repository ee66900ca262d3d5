// What the live pages show of a card in the same way: its badges, when its dots show, and the
// cards sorted into their areas' columns.

import { h, plural } from "./dom.js";
import { totalsShownIn } from "./rules.js";

/** The key of the column that holds the cards without an area. */
export const NO_AREA = "none";

/** The cards by column key (an area's id as a string, or NO_AREA), each in the order given. */
export function groupByArea(areas, cards) {
  const groups = new Map(areas.map((area) => [String(area.id), []]));
  groups.set(NO_AREA, []);
  for (const card of cards) {
    (groups.get(String(card.area_id)) ?? groups.get(NO_AREA)).push(card);
  }
  return groups;
}

/** Totals only where the server allows them; "0 dots" on every card while collecting is noise. */
export function showsDots(card, event) {
  if (!event.counts_visible || card.dots === null || card.dots === undefined) return false;
  if (card.status === "pending") return false;
  return card.dots > 0 || totalsShownIn(event);
}

/** "3 dots"; data-dots carries the number. */
export function dotsBadge(dots, t) {
  return h("span", { class: "badge badge-dots", "data-dots": dots }, plural(t.dots, dots));
}

/** "Merged from 2 cards", for a card others were merged into. */
export function mergedBadge(card, t) {
  return h("span", { class: "badge badge-merged" }, plural(t.merged_from, card.merged_from.length));
}
