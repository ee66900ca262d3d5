// Movement on the board: cards that arrive, travel to another column or leave, and the slow
// scrolling of long columns. Everything here is decoration: without it the board shows the same.

const reduceQuery = window.matchMedia("(prefers-reduced-motion: reduce)");

/** True while the viewer asked for less motion; the board then changes instantly. */
export function reducedMotion() {
  return reduceQuery.matches;
}

/** Call `callback` when the reduced-motion preference changes. */
export function onMotionPreference(callback) {
  reduceQuery.addEventListener("change", callback);
}

const EASE = "cubic-bezier(0.2, 0.7, 0.2, 1)";

/** Where every card is now: `Map(id -> {node, rect, column, color})`. */
export function measure(container) {
  const places = new Map();
  for (const node of container.querySelectorAll(".card")) {
    const rect = node.getBoundingClientRect();
    if (!rect.width) continue; // not shown (another screen is up)
    const column = node.closest(".column");
    const list = node.closest(".column-cards");
    places.set(node.dataset.key, {
      node,
      rect,
      column: column?.dataset.key,
      color: column?.style.getPropertyValue("--area-color") ?? "",
      clip: list?.getBoundingClientRect() ?? null,
    });
  }
  return places;
}

/**
 * Animate from the places `before` to where the cards are now (FLIP): cards that left fade and
 * shrink out as ghosts, cards that changed column travel there, cards that moved within a column
 * slide, and new cards (not in `before`) fade in.
 */
export function animateChanges(container, before, ghosts, { arrivals = true } = {}) {
  const after = measure(container);
  for (const [id, old] of before) {
    const now = after.get(id);
    if (!now) leave(old, ghosts);
    else if (now.column !== old.column) travel(old, now, ghosts);
    else slide(old, now);
  }
  if (!arrivals) return;
  for (const [id, now] of after) {
    if (!before.has(id)) arrive(now.node);
  }
}

function ghostOf(node, rect, color) {
  const ghost = node.cloneNode(true);
  ghost.removeAttribute("id");
  ghost.removeAttribute("data-key");
  ghost.className = "board-card ghost";
  if (color) ghost.style.setProperty("--area-color", color);
  ghost.style.setProperty("left", `${rect.left}px`);
  ghost.style.setProperty("top", `${rect.top}px`);
  ghost.style.setProperty("width", `${rect.width}px`);
  ghost.style.setProperty("height", `${rect.height}px`);
  return ghost;
}

function visibleIn(rect, clip) {
  return !clip || (rect.bottom > clip.top && rect.top < clip.bottom);
}

function leave(old, ghosts) {
  if (!visibleIn(old.rect, old.clip)) return;
  const ghost = ghostOf(old.node, old.rect, old.color);
  ghosts.append(ghost);
  const animation = ghost.animate(
    [
      { opacity: 1, transform: "none" },
      { opacity: 0, transform: "scale(0.8)" },
    ],
    { duration: 600, easing: "ease-in", fill: "forwards" },
  );
  animation.onfinish = animation.oncancel = () => ghost.remove();
}

function travel(old, now, ghosts) {
  // The card flies above the columns (which clip their overflow) and lands in its new place.
  const ghost = ghostOf(now.node, old.rect, now.color);
  ghosts.append(ghost);
  now.node.style.setProperty("visibility", "hidden");
  const dx = now.rect.left - old.rect.left;
  const dy = now.rect.top - old.rect.top;
  const animation = ghost.animate(
    [
      { transform: "none", height: `${old.rect.height}px`, boxShadow: "0 0 0 rgb(0 0 0 / 0)" },
      { transform: `translate(${dx / 2}px, ${dy / 2}px) scale(1.05)`, offset: 0.5,
        boxShadow: "0 0.6em 1.6em rgb(0 0 0 / 0.35)" },
      { transform: `translate(${dx}px, ${dy}px)`, height: `${now.rect.height}px`,
        boxShadow: "0 0 0 rgb(0 0 0 / 0)" },
    ],
    { duration: 900, easing: EASE },
  );
  animation.onfinish = animation.oncancel = () => {
    ghost.remove();
    now.node.style.removeProperty("visibility");
    now.node.classList.add("arrived");
  };
}

function slide(old, now) {
  const dx = old.rect.left - now.rect.left;
  const dy = old.rect.top - now.rect.top;
  if (Math.abs(dx) < 1 && Math.abs(dy) < 1) return;
  now.node.animate([{ transform: `translate(${dx}px, ${dy}px)` }, { transform: "none" }], {
    duration: 500,
    easing: EASE,
  });
}

function arrive(node) {
  node.classList.add("arrived");
  node.animate(
    [
      { opacity: 0, transform: "translateY(-0.6em) scale(0.94)" },
      { opacity: 1, transform: "none" },
    ],
    { duration: 600, easing: EASE },
  );
}

/**
 * Scroll each overflowing `.column-cards` list in `container` slowly down and back up, pausing
 * at both ends. `enabled()` is asked every frame; when it says no, the lists rest at the top.
 */
export function autoScroll(container, enabled, { speed = 28, back = 120, pause = 4000 } = {}) {
  const states = new WeakMap();
  let last = performance.now();

  function step(now) {
    const dt = Math.min(0.1, (now - last) / 1000);
    last = now;
    const on = enabled();
    for (const list of container.querySelectorAll(".column-cards")) {
      let state = states.get(list);
      if (!state) {
        state = { position: 0, direction: 1, until: now + pause };
        states.set(list, state);
      }
      const room = list.scrollHeight - list.clientHeight;
      if (!on || room <= 2) {
        if (list.scrollTop) list.scrollTop = 0;
        state.position = 0;
        state.direction = 1;
        state.until = now + pause;
        continue;
      }
      if (list.dataset.toTop) {
        // A new card arrived at the top: go back up to show it.
        delete list.dataset.toTop;
        if (state.position > 0) {
          state.direction = -1;
          state.until = 0;
        }
      }
      if (now < state.until) continue;
      state.position += state.direction * (state.direction > 0 ? speed : back) * dt;
      if (state.position >= room) {
        state.position = room;
        state.direction = -1;
        state.until = now + pause;
      } else if (state.position <= 0) {
        state.position = 0;
        state.direction = 1;
        state.until = now + pause;
      }
      list.scrollTop = state.position;
    }
    requestAnimationFrame(step);
  }
  requestAnimationFrame(step);
}
