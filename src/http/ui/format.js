// How numbers, people, items and times read on the page.

/** A score as the heat map shows it. */
export function score(value) {
  return typeof value === "number" ? value.toFixed(1) : "–";
}

/** A score with more precision, for details. */
export function precise(value) {
  return typeof value === "number" ? value.toFixed(2) : "–";
}

export function percent(value) {
  return typeof value === "number" ? `${Math.round(value * 100)} %` : "–";
}

/** The CSS class of a level's colour; no evidence at all is "lv-none". */
export function levelClass(level, hasEvidence = true) {
  if (!hasEvidence || typeof level !== "number") return "lv-none";
  return `lv${Math.max(0, Math.min(5, level))}`;
}

/** A person's readable name: the first identity's address, account or id. */
export function agentLabel(agent) {
  if (!agent) return "unknown";
  if (agent.name) return agent.name;
  if (agent.mbox) return agent.mbox.replace(/^mailto:/, "");
  if (agent.account) {
    let host = agent.account.homePage || "";
    try {
      host = new URL(host).host;
    } catch {
      // keep the page as given
    }
    return `${agent.account.name} (${host})`;
  }
  if (agent.openid) return agent.openid;
  if (agent.mbox_sha1sum) return `sha1:${agent.mbox_sha1sum.slice(0, 10)}…`;
  return "unknown";
}

export function personLabel(person) {
  if (!person) return "unknown";
  const identities = person.identities || [];
  return identities.length ? agentLabel(identities[0]) : `person ${String(person.id).slice(0, 8)}`;
}

/** An item's name: its own, else the catalog's, else the end of its IRI. */
export function itemName(ref, catalog) {
  if (!ref) return "";
  const iri = typeof ref === "string" ? ref : ref.iri;
  if (typeof ref === "object" && ref.name) return ref.name;
  const known = catalog && catalog.get(iri);
  if (known) return known.name;
  return lastSegment(iri);
}

export function lastSegment(iri) {
  const parts = String(iri).split(/[/#:]/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : String(iri);
}

/** A verb IRI as a word (".../completed" → "completed"). */
export function verb(iri) {
  return lastSegment(iri);
}

const dateFormat = new Intl.DateTimeFormat("en", { year: "numeric", month: "short", day: "numeric" });

export function date(text) {
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? String(text || "") : dateFormat.format(d);
}

/** An Agent as the JSON the API's `agent` parameter takes, from an address or JSON. */
export function agentParam(input) {
  const text = input.trim();
  if (!text) return null;
  if (text.startsWith("{")) {
    JSON.parse(text);
    return text;
  }
  if (text.includes("@")) {
    return JSON.stringify({ mbox: text.startsWith("mailto:") ? text : `mailto:${text}` });
  }
  return JSON.stringify({ openid: text });
}

/** "#/view/part?name=value" for links. */
export function route(view, parts = [], params = {}) {
  const path = [view, ...parts.map(encodeURIComponent)].join("/");
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  }
  const q = query.toString();
  return `#/${path}${q ? `?${q}` : ""}`;
}
