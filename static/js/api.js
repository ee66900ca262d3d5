// The JSON API from the browser: cookie authentication plus the page's CSRF token.

/**
 * A refused or failed request; `message` is already translated by the server. `card` is the
 * current card when an edit lost a version check.
 */
export class ApiError extends Error {
  constructor(message, { code = "unknown", field = null, status = 0, card = null } = {}) {
    super(message);
    this.code = code;
    this.field = field;
    this.status = status;
    this.card = card;
  }
}

/**
 * Return `call(method, path, body)` for paths below `base` (e.g. "/api/v1/events/H7KMQA").
 * `messages` holds the translated texts for failures the server cannot describe.
 */
export function createApi(base, messages) {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  return async function call(method, path = "", body = undefined) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(base + path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(messages.network_error, { code: "network" });
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = data?.error ?? {};
      throw new ApiError(error.message || messages.unknown_error, {
        code: error.code,
        field: error.field ?? null,
        status: response.status,
        card: error.card ?? null,
      });
    }
    return data;
  };
}
