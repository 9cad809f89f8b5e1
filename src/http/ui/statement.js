// Statements behind scores: the list of proofs shown under a score, and one statement
// with its tags.

import { get, ApiError } from "./api.js";
import { h, message } from "./dom.js";
import * as fmt from "./format.js";

/**
 * The proofs of a score as a list: contribution, verb, activity, when, and the statement
 * id linking to the statement. `other` is the API's `other_proofs`.
 */
export function proofList(proofs, other, { limit = 10, catalog } = {}) {
  const shown = proofs.slice(0, limit);
  const list = h("ul", { class: "proofs" });
  for (const p of shown) {
    const w = p.weight || {};
    list.append(
      h("li", {},
        h("span", { class: ["num", p.contribution < 0 && "negative"] }, `${p.contribution >= 0 ? "+" : ""}${fmt.precise(p.contribution)}`),
        " ",
        fmt.verb(p.verb),
        // Teaching evidence: the person taught or authored what a learner did.
        p.role ? h("span", { class: "muted" }, ` (as ${p.role})`) : null,
        p.activity ? [" ", h("span", { class: "mono" }, fmt.itemName(p.activity, catalog))] : null,
        h("span", { class: "muted" }, ` · ${fmt.date(p.at)}`),
        h("br"),
        h("span", { class: "muted" },
          `weight ${fmt.precise(w.value)} (verb ${fmt.precise(w.verb)} × result ${fmt.precise(w.result)} × confidence ${fmt.precise(w.confidence)} × trust ${fmt.precise(w.trust)}) × decay ${fmt.precise(p.decay)} · statement `),
        h("a", { href: fmt.route("statement", [p.statement]), class: "mono statement-link", "data-statement": p.statement }, p.statement),
      ),
    );
  }
  const hidden = proofs.length - shown.length;
  const otherCount = (other ? other.count : 0) + hidden;
  if (otherCount > 0) {
    const sum = (other ? other.contribution : 0) + proofs.slice(limit).reduce((s, p) => s + p.contribution, 0);
    list.append(h("li", { class: "muted" }, `and ${otherCount} more ${otherCount === 1 ? "proof" : "proofs"} contributing ${fmt.precise(sum)}`));
  }
  if (!proofs.length && !otherCount) list.append(h("li", { class: "muted" }, "no proofs"));
  return list;
}

/** #/statement/ID: the statement (xAPI Statements resource) and its tags. */
export async function show(view, [id]) {
  view.append(h("h2", { tabindex: "-1" }, "Statement"));
  if (!id) {
    view.append(message("No statement id given."));
    return;
  }
  view.append(h("p", { class: "mono" }, id));
  const [statement, tags] = await Promise.allSettled([
    get("/xapi/statements", { statementId: id }, { xapi: true }),
    get(`/api/v1/statements/${encodeURIComponent(id)}/tags`),
  ]);
  if (tags.status === "fulfilled") {
    const rows = tags.value.map((t) =>
      h("tr", {},
        h("td", {}, h("a", { href: fmt.route("experts", [t.item]) }, t.name || fmt.lastSegment(t.item))),
        h("td", {}, (t.kind || "").replace(/_/g, " ")),
        h("td", { class: "n" }, fmt.precise(t.confidence)),
        h("td", {}, t.method, t.rule ? ` (${t.rule})` : ""),
      ));
    view.append(
      h("h3", {}, "Tags"),
      rows.length
        ? h("div", { class: "scroller" }, h("table", { class: "data" },
            h("caption", { class: "visually-hidden" }, "Framework items this statement is evidence for"),
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Item"), h("th", { scope: "col" }, "Kind"), h("th", { scope: "col", class: "n" }, "Confidence"), h("th", { scope: "col" }, "Found by"))),
            h("tbody", {}, rows)))
        : message("No tags: the statement is not evidence for any item."),
    );
  } else {
    view.append(h("h3", {}, "Tags"), message(describe(tags.reason), "error"));
  }
  view.append(h("h3", {}, "Statement"));
  if (statement.status === "fulfilled") {
    const s = statement.value;
    view.append(
      h("dl", { class: "facts card" },
        h("dt", {}, "Actor"), h("dd", {}, fmt.agentLabel(s.actor)),
        h("dt", {}, "Verb"), h("dd", {}, s.verb && s.verb.id),
        h("dt", {}, "Object"), h("dd", {}, s.object && (s.object.id || s.object.objectType)),
        h("dt", {}, "When"), h("dd", {}, s.timestamp || ""),
        h("dt", {}, "Stored"), h("dd", {}, s.stored || ""),
      ),
      h("pre", { class: "json", tabindex: "0", "aria-label": "The statement as JSON" }, JSON.stringify(s, null, 2)),
    );
  } else {
    view.append(message(describe(statement.reason), "error"));
  }
}

/** A failed call in words. */
export function describe(error) {
  if (!(error instanceof ApiError)) return String(error && error.message ? error.message : error);
  if (error.status === 403) return `This credential may not read this: ${error.message}`;
  if (error.status === 404) return `Not found: ${error.message}`;
  return error.message;
}
