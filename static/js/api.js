// The JSON API from the browser: cookie authentication plus the page's CSRF token.

/**
 * A refused or failed request; `message` is already translated by the server. `card` is the
 * current card when an edit lost a version check. `code` is "network" when no answer came and
 * "timeout" when none came in time; `retryAfter` is the seconds a 429 asks to wait (or null).
 */
export class ApiError extends Error {
  constructor(message, options = {}) {
    const { code = "unknown", field = null, status = 0, card = null, retryAfter = null } = options;
    super(message);
    this.code = code;
    this.field = field;
    this.status = status;
    this.card = card;
    this.retryAfter = retryAfter;
  }
}

/** A request that has had no answer after this long counts as lost (a venue Wi-Fi can hang). */
const TIMEOUT = 20_000;

/**
 * Return `call(method, path, body)` for paths below `base` (e.g. "/api/v1/events/H7KMQA").
 * `messages` holds the translated texts for failures the server cannot describe.
 */
export function createApi(base, messages, { timeout = TIMEOUT } = {}) {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  return async function call(method, path = "", body = undefined) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrf };
    // A form (a file upload) sets its own multipart Content-Type, with its boundary.
    const form = body instanceof FormData;
    if (body !== undefined && !form) headers["Content-Type"] = "application/json";
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    let response;
    let data;
    try {
      response = await fetch(base + path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined || form ? body : JSON.stringify(body),
        signal: controller.signal,
      });
      data = await response.json().catch(() => null);
    } catch {
      throw new ApiError(messages.network_error, { code: timedOut ? "timeout" : "network" });
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) throw new ApiError(messages.network_error, { code: "timeout" });
    if (!response.ok) {
      const error = data?.error ?? {};
      throw new ApiError(error.message || messages.unknown_error, {
        code: error.code,
        field: error.field ?? null,
        status: response.status,
        card: error.card ?? null,
        retryAfter: retryAfter(response.headers.get("Retry-After")),
      });
    }
    return data;
  };
}

/** Seconds to wait from a Retry-After header (seconds or an HTTP date), or null. */
function retryAfter(header) {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(seconds, 0);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max((date - Date.now()) / 1000, 0);
}
