// Same-origin calls to /api/v1; the HttpOnly session cookie authenticates them. Every call sends
// X-Requested-With: the API refuses state-changing cookie requests without it (CSRF guard).
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export async function api(path, { method = "GET", body, params } = {}) {
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [key, value] of Object.entries(params ?? {})) {
    for (const item of [].concat(value)) if (item !== undefined && item !== "") url.searchParams.append(key, item);
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: body
        ? { "Content-Type": "application/json", "X-Requested-With": "anpr-console" }
        : { "X-Requested-With": "anpr-console" },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (error) {
    throw new ApiError(0, "unavailable", String(error));
  }
  if (!response.ok) {
    let payload = {};
    try {
      payload = await response.json();
    } catch {
      // A proxy's HTML error page: keep the status, drop the body.
    }
    throw new ApiError(response.status, payload.error ?? "error", payload.message ?? response.statusText, payload);
  }
  return response;
}

export async function apiJson(path, options) {
  return (await api(path, options)).json();
}

export function apiUrl(path, params) {
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [key, value] of Object.entries(params ?? {})) {
    for (const item of [].concat(value)) if (item !== undefined && item !== "") url.searchParams.append(key, item);
  }
  return url.toString();
}
