// Dragging cards in the moderator console: HTML5 drag and drop for the mouse, a long press for
// touch and pen. Dropping on a column asks to move the card, dropping on a card to merge it there.
// This module only finds out what the person meant; console.js asks the server.

const LONG_PRESS_MS = 450;
const SLOP_PX = 10;
// A card held this close to the row's left or right edge scrolls the row, faster nearer the edge.
const EDGE_PX = 64;
const EDGE_STEP_PX = 22;

/**
 * Make the `.mcard` elements inside `root` draggable onto `.mcolumn[data-area]` and other cards.
 * `onMove(cardId, areaKey)` and `onMerge(cardId, targetId)` run on a drop; `scroller`, the row
 * of columns, scrolls sideways while a card is held near its edge.
 */
export function enableDrag(root, { onMove, onMerge, scroller = null }) {
  const drag = {
    root,
    onMove,
    onMerge,
    scroller,
    speed: 0, // pixels per frame the row scrolls by (negative: to the left)
    frame: 0, // the pending animation frame while it scrolls
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
  drag.speed = 0;
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
  // On the whole page, so that leaving the row's edge (for the side bar, say) stops the scroll.
  document.addEventListener("dragover", (event) => {
    if (drag.dragged) edgeScroll(drag, event.clientX, event.clientY);
  });
}

// -- scrolling the row while a card is held near its edge -----------------------------------

/** Set how fast the row scrolls for a card held at (x, y), and keep it scrolling frame by frame:
 * a held pointer sends no events, yet the row must go on. */
function edgeScroll(drag, x, y) {
  const row = drag.scroller;
  if (!row) return;
  const box = row.getBoundingClientRect();
  const inside = y >= box.top && y <= box.bottom && x >= box.left && x <= box.right;
  const fromLeft = x - box.left;
  const fromRight = box.right - x;
  let speed = 0;
  if (inside && fromLeft < EDGE_PX) speed = -Math.ceil(((EDGE_PX - fromLeft) / EDGE_PX) * EDGE_STEP_PX);
  else if (inside && fromRight < EDGE_PX) speed = Math.ceil(((EDGE_PX - fromRight) / EDGE_PX) * EDGE_STEP_PX);
  drag.speed = speed;
  if (speed && !drag.frame) drag.frame = requestAnimationFrame(() => scrollStep(drag));
}

function scrollStep(drag) {
  drag.frame = 0;
  if (!drag.speed || !drag.dragged) return;
  // scrollBy counts physical pixels in both directions, so right-to-left needs nothing else.
  drag.scroller.scrollBy({ left: drag.speed, behavior: "instant" });
  drag.frame = requestAnimationFrame(() => scrollStep(drag));
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
  edgeScroll(drag, x, y);
}

function release(drag) {
  const { press } = drag;
  if (!press) return;
  clearTimeout(press.timer);
  press.ghost?.remove();
  press.card.draggable = true;
  drag.press = null;
}
