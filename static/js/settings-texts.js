// The settings page's table of the question and the area names in other languages: "Suggest
// machine translations" fills the empty fields from the server's engine. The form works without
// this script; nothing is stored until the organiser saves.

import { createApi } from "./api.js";
import { $, pageData } from "./dom.js";

const data = pageData();
const t = data.strings;
const call = createApi(data.api, t);
const button = $("texts-suggest");
const status = $("texts-status");

async function suggest() {
  button.disabled = true;
  status.textContent = t.suggesting;
  try {
    const suggested = await call("POST", "/texts/suggest");
    const filled = fill(suggested);
    status.textContent = filled ? t.suggested : t.nothing_suggested;
  } catch (error) {
    status.textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

/** Put each suggestion into its field where that field is still empty; how many were filled. */
function fill({ question = {}, areas = {} }) {
  let filled = 0;
  for (const field of $("texts-form").querySelectorAll("[data-lang]")) {
    const { lang, area } = field.dataset;
    const text = area === undefined ? question[lang] : areas[area]?.[lang];
    if (text && !field.value.trim()) {
      field.value = text;
      filled += 1;
    }
  }
  return filled;
}

button.hidden = false;
button.addEventListener("click", suggest);
