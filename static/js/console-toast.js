// The console's toast: "Moved." or "Merged." with Undo, shown next to the card it is about (where
// the moderator is looking), or at the bottom of the window when that card is out of view.

import { $ } from "./dom.js";

const SHOWN_MS = 15000;
const GAP_PX = 8;

let timer = 0;
let undoing = null; // what Undo does
let anchorId = null; // the card the toast stands next to

/** Show `message`; with `undo`, an Undo button that runs it; next to card `cardId` if given. */
export function toast(message, undo = null, cardId = null) {
  clearTimeout(timer);
  undoing = undo;
  anchorId = cardId;
  $("toast-text").textContent = message;
  $("toast-undo").hidden = !undo;
  $("toast").hidden = false;
  placeToast();
  timer = setTimeout(hideToast, SHOWN_MS);
}

export function hideToast() {
  clearTimeout(timer);
  undoing = null;
  anchorId = null;
  $("toast").hidden = true;
}

/** Put the toast under its card (above it near the window's bottom); call after each redraw, as
 * the card is rebuilt in its new column when the server's change arrives. */
export function placeToast() {
  const box = $("toast");
  if (box.hidden) return;
  const card = anchorId === null ? null : $(`mcard-${anchorId}`);
  const rect = card && visibleRect(card);
  box.classList.toggle("near-card", Boolean(rect));
  if (!rect) {
    box.style.removeProperty("top");
    box.style.removeProperty("left");
    return;
  }
  const { offsetWidth: width, offsetHeight: height } = box;
  let top = rect.bottom + GAP_PX;
  if (top + height > window.innerHeight - GAP_PX) top = rect.top - height - GAP_PX;
  top = clamp(top, GAP_PX, window.innerHeight - height - GAP_PX);
  // Aligned with the card's start edge: its left in left-to-right, its right in right-to-left.
  const rtl = getComputedStyle(card).direction === "rtl";
  const left = clamp(rtl ? rect.right - width : rect.left, GAP_PX, window.innerWidth - width - GAP_PX);
  box.style.setProperty("top", `${Math.round(top)}px`);
  box.style.setProperty("left", `${Math.round(left)}px`);
}

/** The card's box when it can be seen: inside the window and inside its scrolled row. */
function visibleRect(card) {
  const rect = card.getBoundingClientRect();
  const row = card.closest(".mcolumns");
  const frame = row ? row.getBoundingClientRect() : { left: 0, right: window.innerWidth };
  const inRow = rect.right > frame.left && rect.left < frame.right;
  const inWindow = rect.bottom > 0 && rect.top < window.innerHeight;
  return rect.width && inRow && inWindow ? rect : null;
}

function clamp(value, low, high) {
  return Math.max(low, Math.min(value, Math.max(low, high)));
}

$("toast-undo").addEventListener("click", () => {
  const undo = undoing;
  hideToast();
  undo?.();
});
$("toast-close").addEventListener("click", hideToast);
window.addEventListener("resize", placeToast);
window.addEventListener("scroll", placeToast, { passive: true });
