// The condensed board (display layout `condense`): the whole board on one screen. Cards get
// smaller type, then lose their details, and what still does not fit is named ("+N more") at the
// foot of its column instead of being cut off silently. Layout only: which cards exist and their
// order come from the server.

import { plural, setText } from "./dom.js";

/** Steps tried in turn: the card type's scale, and whether details are still shown. */
const STEPS = [
  { scale: 1, details: true },
  { scale: 0.9, details: true },
  { scale: 0.9, details: false },
  { scale: 0.8, details: false },
  // The readable minimum: titles about 15 px at 720p and 22 px at 1080p.
  { scale: 0.7, details: false },
];

/** Fit the shown columns of `container` into their height; `moreText` is the plural "+N more". */
export function condense(container, moreText) {
  const columns = [...container.children].filter((column) => !column.hidden);
  for (const column of columns) showAll(column);
  for (const step of STEPS) {
    container.style.setProperty("--fit-scale", String(step.scale));
    container.classList.toggle("fit-titles", !step.details);
    if (!columns.some(overflows)) return;
  }
  widen(container, columns);
  for (const column of columns) cut(column, moreText);
}

/**
 * A few crowded columns take room from the quiet ones: twice as wide, their cards in two
 * columns. Undone when a column that fitted no longer does.
 */
function widen(container, columns) {
  const crowded = columns.filter(overflows);
  const rows = Number(container.style.getPropertyValue("--rows") || 1);
  if (rows > 1 || crowded.length > columns.length / 3) return;
  const before = container.style.getPropertyValue("--columns");
  container.style.setProperty("--columns", String(columns.length + crowded.length));
  for (const column of crowded) column.classList.add("wide");
  if (columns.some((column) => !crowded.includes(column) && overflows(column))) {
    container.style.setProperty("--columns", before);
    for (const column of crowded) column.classList.remove("wide");
  }
}

/** Back to the full look, for the scrolling layout. */
export function uncondense(container) {
  container.style.removeProperty("--fit-scale");
  container.classList.remove("fit-titles");
  for (const column of container.children) showAll(column);
}

function showAll(column) {
  column.classList.remove("wide");
  for (const card of column.querySelectorAll(".board-card.cut")) card.classList.remove("cut");
  const note = column.querySelector(".column-more");
  if (note) note.hidden = true;
}

function overflows(column) {
  const list = column.querySelector(".column-cards");
  // Two columns of cards overflow sideways, one column downwards.
  return list.scrollHeight > list.clientHeight + 1 || list.scrollWidth > list.clientWidth + 1;
}

/** Hide the cards that do not fit, from the last one up, and say how many there are. */
function cut(column, moreText) {
  const list = column.querySelector(".column-cards");
  const cards = [...list.querySelectorAll(".board-card")];
  const note = column.querySelector(".column-more");
  let hidden = 0;
  // The note takes room of its own: shown first, then cards go until the rest fits above it.
  note.hidden = false;
  while (hidden < cards.length && overflows(column)) {
    hidden += 1;
    cards[cards.length - hidden].classList.add("cut");
    setText(note, plural(moreText, hidden));
  }
  note.hidden = hidden === 0;
}
