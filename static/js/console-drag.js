// Dragging cards in the moderator console: HTML5 drag and drop for the mouse, a long press for
// touch and pen. Dropping on a column asks to move the card, dropping on a card to merge it there.
// This module only finds out what the person meant; console.js asks the server.

const LONG_PRESS_MS = 450;
const SLOP_PX = 10;

/**
 * Make the `.mcard` elements inside `root` draggable onto `.mcolumn[data-area]` and other cards.
 * `onMove(cardId, areaKey)` and `onMerge(cardId, targetId)` run on a drop.
 */
export function enableDrag(root, { onMove, onMerge }) {
  let dragged = null; // id of the card being dragged (string)
  let marked = null; // the element highlighted as the drop target

  function targetAt(node) {
    const card = node?.closest?.(".mcard");
    if (card && root.contains(card) && card.dataset.id !== dragged) return card;
    if (card && card.dataset.id === dragged) return null;
    const column = node?.closest?.(".mcolumn[data-area]");
    return column && root.contains(column) ? column : null;
  }

  function mark(target) {
    if (target === marked) return;
    marked?.classList.remove("drop-target");
    marked = target;
    marked?.classList.add("drop-target");
  }

  function drop(target) {
    const id = dragged;
    finish();
    if (!id || !target) return;
    if (target.classList.contains("mcard")) onMerge(Number(id), Number(target.dataset.id));
    else onMove(Number(id), target.dataset.area);
  }

  function finish() {
    mark(null);
    root.querySelector(".mcard.dragging")?.classList.remove("dragging");
    dragged = null;
  }

  // -- mouse: native drag and drop --------------------------------------------------------------

  root.addEventListener("dragstart", (event) => {
    const card = event.target.closest?.(".mcard");
    if (!card) return;
    dragged = card.dataset.id;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged);
    // Marked a frame later, so that the drag image shows the card as it was.
    requestAnimationFrame(() => card.classList.add("dragging"));
  });
  root.addEventListener("dragover", (event) => {
    if (!dragged) return;
    const target = targetAt(event.target);
    mark(target);
    if (target) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });
  root.addEventListener("drop", (event) => {
    if (!dragged) return;
    event.preventDefault();
    drop(targetAt(event.target));
  });
  root.addEventListener("dragend", finish);

  // -- touch and pen: long press, then follow the finger ----------------------------------------

  let press = null; // {card, pointerId, x, y, timer, ghost, active}

  root.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" || !event.isPrimary) return;
    const card = event.target.closest?.(".mcard");
    if (!card || event.target.closest("button, a, input")) return;
    // The browser's own drag would compete with ours.
    card.draggable = false;
    press = { card, pointerId: event.pointerId, x: event.clientX, y: event.clientY, ghost: null };
    press.timer = setTimeout(() => lift(event.clientX, event.clientY), LONG_PRESS_MS);
  });

  function lift(x, y) {
    if (!press) return;
    press.active = true;
    dragged = press.card.dataset.id;
    press.card.classList.add("dragging");
    const ghost = press.card.cloneNode(true);
    ghost.removeAttribute("id");
    ghost.classList.add("drag-ghost");
    ghost.setAttribute("aria-hidden", "true");
    ghost.style.setProperty("inline-size", `${press.card.offsetWidth}px`);
    document.body.append(ghost);
    press.ghost = ghost;
    follow(x, y);
    navigator.vibrate?.(20);
  }

  function follow(x, y) {
    press.ghost.style.setProperty("left", `${x - 20}px`);
    press.ghost.style.setProperty("top", `${y - 20}px`);
    mark(targetAt(document.elementFromPoint(x, y)));
  }

  root.addEventListener("pointermove", (event) => {
    if (!press || event.pointerId !== press.pointerId) return;
    if (press.active) follow(event.clientX, event.clientY);
    else if (Math.hypot(event.clientX - press.x, event.clientY - press.y) > SLOP_PX) release();
  });

  function release() {
    if (!press) return;
    clearTimeout(press.timer);
    press.ghost?.remove();
    press.card.draggable = true;
    press = null;
  }

  root.addEventListener("pointerup", (event) => {
    if (!press || event.pointerId !== press.pointerId) return;
    const active = press.active;
    const x = event.clientX;
    const y = event.clientY;
    release();
    if (active) drop(targetAt(document.elementFromPoint(x, y)));
  });
  // Also sent when the mouse starts a native drag: only a lifted touch drag ends here.
  root.addEventListener("pointercancel", () => {
    if (!press) return;
    const active = press.active;
    release();
    if (active) finish();
  });
  // While a card is lifted the finger drags it; the page must not scroll or open a context menu.
  document.addEventListener(
    "touchmove",
    (event) => {
      if (press?.active) event.preventDefault();
    },
    { passive: false },
  );
  root.addEventListener("contextmenu", (event) => {
    if (press) event.preventDefault();
  });
}
