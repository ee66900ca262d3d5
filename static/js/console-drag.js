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
  const drag = {
    root,
    onMove,
    onMerge,
    dragged: null, // id of the card being dragged (string)
    marked: null, // the element highlighted as the drop target
    press: null, // touch and pen: {card, pointerId, x, y, timer, ghost, active}
  };
  followMouse(drag);
  followTouch(drag);
}

function targetAt(drag, node) {
  const card = node?.closest?.(".mcard");
  if (card && drag.root.contains(card) && card.dataset.id !== drag.dragged) return card;
  if (card && card.dataset.id === drag.dragged) return null;
  const column = node?.closest?.(".mcolumn[data-area]");
  return column && drag.root.contains(column) ? column : null;
}

function mark(drag, target) {
  if (target === drag.marked) return;
  drag.marked?.classList.remove("drop-target");
  drag.marked = target;
  drag.marked?.classList.add("drop-target");
}

function drop(drag, target) {
  const id = drag.dragged;
  finish(drag);
  if (!id || !target) return;
  if (target.classList.contains("mcard")) drag.onMerge(Number(id), Number(target.dataset.id));
  else drag.onMove(Number(id), target.dataset.area);
}

function finish(drag) {
  mark(drag, null);
  drag.root.querySelector(".mcard.dragging")?.classList.remove("dragging");
  drag.dragged = null;
}

// -- mouse: native drag and drop ----------------------------------------------------------------

function followMouse(drag) {
  const { root } = drag;
  root.addEventListener("dragstart", (event) => {
    const card = event.target.closest?.(".mcard");
    if (!card) return;
    drag.dragged = card.dataset.id;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", drag.dragged);
    // Marked a frame later, so that the drag image shows the card as it was.
    requestAnimationFrame(() => card.classList.add("dragging"));
  });
  root.addEventListener("dragover", (event) => {
    if (!drag.dragged) return;
    const target = targetAt(drag, event.target);
    mark(drag, target);
    if (target) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });
  root.addEventListener("drop", (event) => {
    if (!drag.dragged) return;
    event.preventDefault();
    drop(drag, targetAt(drag, event.target));
  });
  root.addEventListener("dragend", () => finish(drag));
}

// -- touch and pen: long press, then follow the finger ------------------------------------------

function followTouch(drag) {
  const { root } = drag;
  root.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" || !event.isPrimary) return;
    const card = event.target.closest?.(".mcard");
    if (!card || event.target.closest("button, a, input")) return;
    // The browser's own drag would compete with ours.
    card.draggable = false;
    const [x, y] = [event.clientX, event.clientY];
    drag.press = { card, pointerId: event.pointerId, x, y, ghost: null };
    drag.press.timer = setTimeout(() => lift(drag, x, y), LONG_PRESS_MS);
  });
  root.addEventListener("pointermove", (event) => {
    const { press } = drag;
    if (!press || event.pointerId !== press.pointerId) return;
    if (press.active) moveGhost(drag, event.clientX, event.clientY);
    else if (Math.hypot(event.clientX - press.x, event.clientY - press.y) > SLOP_PX) release(drag);
  });
  root.addEventListener("pointerup", (event) => {
    if (!drag.press || event.pointerId !== drag.press.pointerId) return;
    const active = drag.press.active;
    release(drag);
    if (active) drop(drag, targetAt(drag, document.elementFromPoint(event.clientX, event.clientY)));
  });
  // Also sent when the mouse starts a native drag: only a lifted touch drag ends here.
  root.addEventListener("pointercancel", () => {
    if (!drag.press) return;
    const active = drag.press.active;
    release(drag);
    if (active) finish(drag);
  });
  keepPageStill(drag);
}

// While a card is lifted the finger drags it; the page must not scroll or open a context menu.
function keepPageStill(drag) {
  document.addEventListener(
    "touchmove",
    (event) => {
      if (drag.press?.active) event.preventDefault();
    },
    { passive: false },
  );
  drag.root.addEventListener("contextmenu", (event) => {
    if (drag.press) event.preventDefault();
  });
}

function lift(drag, x, y) {
  const { press } = drag;
  if (!press) return;
  press.active = true;
  drag.dragged = press.card.dataset.id;
  press.card.classList.add("dragging");
  const ghost = press.card.cloneNode(true);
  ghost.removeAttribute("id");
  ghost.classList.add("drag-ghost");
  ghost.setAttribute("aria-hidden", "true");
  ghost.style.setProperty("inline-size", `${press.card.offsetWidth}px`);
  document.body.append(ghost);
  press.ghost = ghost;
  moveGhost(drag, x, y);
  navigator.vibrate?.(20);
}

function moveGhost(drag, x, y) {
  drag.press.ghost.style.setProperty("left", `${x - 20}px`);
  drag.press.ghost.style.setProperty("top", `${y - 20}px`);
  mark(drag, targetAt(drag, document.elementFromPoint(x, y)));
}

function release(drag) {
  const { press } = drag;
  if (!press) return;
  clearTimeout(press.timer);
  press.ghost?.remove();
  press.card.draggable = true;
  drag.press = null;
}
