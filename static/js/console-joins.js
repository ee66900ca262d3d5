// Joins by network in the console: how many participants each (hashed) address made, a polite
// warning when one network makes many quickly, and "Require seat codes" in one step. The server
// counts, hashes and decides when to warn; this module asks it every few seconds and shows what
// it says. See docs/seat-codes.md.

import { $, format, h, number, pageData, plural, reconcile } from "./dom.js";

const t = pageData().strings;
/** How often the counts are fetched while the console is visible (a burst lasts minutes). */
const POLL_MS = 15_000;
let ctx = null; // {call, say}
let latest = null; // the last answer of GET /joins

/** Start polling and wire the seat-code dialog; `call` is the console's API call. */
export function setupJoins({ call, say }) {
  ctx = { call, say };
  $("require-seats").addEventListener("click", openDialog);
  $("seats-dialog").addEventListener("close", closeDialog);
  refresh();
  setInterval(() => {
    if (!document.hidden) refresh();
  }, POLL_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
}

async function refresh() {
  try {
    latest = await ctx.call("GET", "/joins");
  } catch {
    return; // the connection line already says when the server is away
  }
  draw(latest);
}

function draw(stats) {
  const networks = stats.buckets.length + stats.more_buckets;
  $("joins-summary").textContent =
    `${plural(t.participants_count, stats.participants)} ${plural(t.networks_count, networks)}`;
  const rows = stats.buckets.map((bucket) => ({ ...bucket, key: bucket.label ?? "" }));
  if (stats.more_buckets) rows.push({ key: "+", more: stats.more_buckets });
  reconcile($("joins-list"), rows, {
    key: (row) => row.key,
    signature: (row) => JSON.stringify(row),
    build: bucketLine,
  });
  // Only a change of text is announced by the live region, so set it only when it changes.
  const warning = stats.warning ? format(t.join_warning, shown(stats.warning)) : "";
  const box = $("joins-warning");
  if (box.textContent !== warning) box.textContent = warning;
  box.classList.toggle("is-warning", Boolean(warning));
  drawSeats(stats);
}

function bucketLine(row) {
  if (row.more) return h("li", { class: "muted" }, plural(t.more_networks, row.more));
  const text = row.label
    ? format(t.join_bucket, shown(row))
    : format(t.join_bucket_unknown, { total: number(row.total) });
  return h("li", { class: row.recent ? "" : "muted" }, text);
}

function shown(bucket) {
  return { label: bucket.label, total: number(bucket.total), recent: number(bucket.recent) };
}

function drawSeats(stats) {
  const line = $("joins-seats");
  line.hidden = !stats.seat_codes_required;
  line.textContent = stats.seat_codes_required
    ? format(t.seats_required, { unused: number(stats.seats.unused), total: number(stats.seats.total) })
    : "";
  $("require-seats").hidden = stats.seat_codes_required;
}

function openDialog() {
  const unused = latest?.seats?.unused ?? 0;
  $("seats-dialog-stock").textContent = unused ? plural(t.seats_stock, unused) : t.seats_none;
  const dialog = $("seats-dialog");
  dialog.returnValue = "";
  dialog.showModal();
  $("seats-confirm").focus();
}

async function closeDialog() {
  if ($("seats-dialog").returnValue !== "confirm") {
    $("require-seats").focus();
    return;
  }
  try {
    await ctx.call("PATCH", "", { settings: { seat_codes_required: true } });
    ctx.say(t.seats_on);
  } catch (error) {
    ctx.say(error.message, true);
  }
  await refresh();
  $("joins-heading").focus();
}
