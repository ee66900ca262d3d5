// Who supports what on the phone: the one question "which group do you belong to?", shown by the
// server only until this phone answered or skipped it. An answer is final; the server refuses a
// second one, and the panel goes away either way.

import { createApi } from "./api.js";
import { $, pageData } from "./dom.js";

const data = pageData();
const t = data.strings;
const api = createApi(data.api, t);
const panel = $("affiliation");
const form = $("affiliation-form");
const error = $("affiliation-error");
const done = $("affiliation-done");

function showError(message) {
  error.textContent = message;
  error.hidden = false;
}

function close() {
  panel.remove();
  done.textContent = t.affiliation_thanks;
  done.focus();
}

async function send(event) {
  event.preventDefault();
  const chosen = form.querySelector('input[name="affiliation"]:checked');
  if (!chosen) {
    showError(t.affiliation_required);
    return;
  }
  error.hidden = true;
  const button = $("affiliation-send");
  button.disabled = true;
  try {
    // "" is "I'd rather not say": sent as null, a skip.
    await api("PUT", "/participants/me/affiliation", { affiliation: chosen.value || null });
    close();
  } catch (failure) {
    if (failure.code === "affiliation_answered") close();
    else showError(failure.message);
  } finally {
    button.disabled = false;
  }
}

if (form) {
  form.addEventListener("submit", send);
  form.addEventListener("change", () => {
    error.hidden = true;
  });
}
