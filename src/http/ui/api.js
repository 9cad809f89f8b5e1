// Calls of the gateway's API with the credential the user signed in with. The credential
// lives in this tab's sessionStorage only and goes only to this origin.

const STORE_KEY = "lrsgate.credential";
const TIMEOUT_MS = 30000;

/** A failed call: the HTTP status, the API's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message, fromApi) {
    super(message);
    this.status = status;
    this.code = code;
    /** Whether the answer was the API's JSON error (a 404 without one: no such route). */
    this.fromApi = fromApi;
  }
}

/** The stored credential: {kind: "basic", key, secret} or {kind: "bearer", token}. */
export function credential() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
  } catch {
    return null;
  }
}

export function saveCredential(c) {
  sessionStorage.setItem(STORE_KEY, JSON.stringify(c));
}

export function forgetCredential() {
  sessionStorage.removeItem(STORE_KEY);
}

/** A short name for the signed-in credential. */
export function credentialLabel() {
  const c = credential();
  if (!c) return "";
  return c.kind === "basic" ? `key ${c.key}` : "bearer token";
}

function base64(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function authorization() {
  const c = credential();
  if (!c) return null;
  return c.kind === "basic" ? `Basic ${base64(`${c.key}:${c.secret}`)}` : `Bearer ${c.token}`;
}

/** Listeners told when the server refuses the credential (401). */
const refusedListeners = [];
export function onRefused(listener) {
  refusedListeners.push(listener);
}

/**
 * GET `path` (with `params`, an object of query parameters; undefined and empty values
 * are left out) and answer its JSON. `xapi` adds the xAPI version header.
 */
export async function get(path, params = {}, { xapi = false } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  const auth = authorization();
  if (auth) headers.Authorization = auth;
  if (xapi) headers["X-Experience-API-Version"] = "1.0.3";
  let response;
  try {
    response = await fetch(url, {
      headers,
      // The credential travels in the header; the browser's own (cookies, its Basic
      // dialog) stays out of it.
      credentials: "omit",
      cache: "no-store",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw new ApiError(0, "network", `The server did not answer (${e.name === "TimeoutError" ? "timed out" : e.message}).`, false);
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = body && body.error;
    const failure = new ApiError(
      response.status,
      error ? error.code : `http_${response.status}`,
      error ? error.message : `The server answered ${response.status} ${response.statusText}.`,
      Boolean(error),
    );
    if (response.status === 401) refusedListeners.forEach((l) => l(failure));
    throw failure;
  }
  return body;
}

/** An item IRI (or code) as a path segment. */
export function itemPath(iri) {
  return encodeURIComponent(iri);
}

/** Every team, following `next_after` (at most `pages` pages of 100). */
export async function allTeams(pages = 20) {
  const teams = [];
  let after;
  for (let page = 0; page < pages; page++) {
    const answer = await get("/api/v1/teams", { after, limit: 100 });
    teams.push(...answer.teams);
    if (!answer.next_after) break;
    after = answer.next_after;
  }
  return teams;
}

let catalogPromise = null;

/**
 * The items of every active framework: {items: Map(iri → item), error}. Read once per
 * sign-in; an answer without the right to read frameworks leaves the map empty.
 */
export function catalog() {
  if (!catalogPromise) {
    catalogPromise = (async () => {
      const items = new Map();
      try {
        const frameworks = await get("/api/v1/frameworks");
        const active = frameworks.filter((f) => f.active);
        const views = await Promise.all(active.map((f) => get(`/api/v1/frameworks/${encodeURIComponent(f.id)}`)));
        for (const view of views) {
          for (const item of view.framework.items) {
            if (!items.has(item.iri)) items.set(item.iri, { ...item, framework: view.title });
          }
        }
        return { items, error: null };
      } catch (e) {
        catalogPromise = null;
        return { items, error: e };
      }
    })();
  }
  return catalogPromise;
}

export function forgetCatalog() {
  catalogPromise = null;
}

/** Runs `task` over `values`, at most `width` at once; answers the results in order. */
export async function mapLimited(values, width, task) {
  const results = new Array(values.length);
  let next = 0;
  async function worker() {
    while (next < values.length) {
      const i = next++;
      results[i] = await task(values[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, values.length) }, worker));
  return results;
}
