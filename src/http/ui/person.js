// #/person/ID?item=IRI or #/person?agent=JSON: a person's profile, each score with its
// trend over the last year as a sparkline and the statements behind it.

import { get, catalog } from "./api.js";
import { h, svg, labelledSelect, announce, message } from "./dom.js";
import * as fmt from "./format.js";
import { proofList, describe } from "./statement.js";

const DAY = 86400000;
/** Proofs read per score: enough to draw the year's curve for most people. */
const PROOFS = 100;

export async function show(view, [personId], params, ctx) {
  const agent = params.get("agent") || "";
  const focusItem = params.get("item") || "";
  view.append(h("h2", { tabindex: "-1" }, "Person profile"));

  const input = h("input", { id: "agent-input", name: "agent", spellcheck: "false", autocapitalize: "off", placeholder: "ada@example.com", value: agent ? agentText(agent) : "" });
  const formError = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "controls card", "aria-label": "Find a person" },
    h("div", { class: "grow" }, h("label", { for: "agent-input" }, "E-mail address or xAPI Agent JSON"), input),
    h("div", {}, h("button", { type: "submit" }, "Show profile")), formError);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    try {
      const value = fmt.agentParam(input.value);
      if (!value) {
        formError.textContent = "Enter an e-mail address or an Agent as JSON.";
        return;
      }
      location.hash = fmt.route("person", [], { agent: value });
    } catch {
      formError.textContent = "That is not valid JSON for an Agent.";
    }
  });
  view.append(form);
  if (!personId && !agent) {
    view.append(h("p", { class: "muted" }, "Or open a person from the team map or the expert finder."));
    return;
  }
  const body = h("div", {}, h("p", { class: "loading" }, "Loading the profile…"));
  view.append(body);
  let profile;
  let cat;
  try {
    [profile, cat] = await Promise.all([
      get("/api/v1/profiles", personId ? { person: personId, proofs: PROOFS } : { agent, proofs: PROOFS }),
      catalog(),
    ]);
  } catch (e) {
    if (ctx.stale()) return;
    body.replaceChildren(message(describe(e), "error"));
    return;
  }
  if (ctx.stale()) return;
  const label = fmt.personLabel(profile.person);
  view.querySelector("h2").textContent = `Profile of ${label}`;
  body.replaceChildren(...render(profile, cat.items, focusItem),
    gapsSection(profile.person.id, personId ? [personId] : [], params, cat.items));
  announce(`Profile of ${label}: ${profile.competencies.length} items with evidence.`);
  const target = focusItem && body.querySelector(".skill.target h3");
  if (target) {
    target.focus();
    target.scrollIntoView({ block: "start" });
    ctx.focused();
  }
}

function agentText(json) {
  try {
    const a = JSON.parse(json);
    if (a.mbox && Object.keys(a).length === 1) return a.mbox.replace(/^mailto:/, "");
  } catch {
    // shown as given
  }
  return json;
}

function render(profile, catalogItems, focusItem) {
  const basis = profile.basis || {};
  const identities = (profile.person.identities || []).map(fmt.agentLabel);
  const out = [
    h("p", { class: "identities" }, `${identities.length > 1 ? "Identities" : "Identity"}: ${identities.join(", ") || "none known"} · person id `, h("span", { class: "mono" }, profile.person.id)),
  ];
  if (!profile.competencies.length) {
    out.push(message("No skill evidence for this person yet."));
    return out;
  }
  out.push(h("p", { class: "muted" },
    `${profile.competencies.length} items with evidence, strongest first. Scores as of ${fmt.date(basis.at)}; evidence loses half its weight every ${basis.half_life_days} days. The curve shows the score over the last 12 months, from the proofs.`));
  const list = h("ul", { class: "skills" });
  profile.competencies.forEach((c, i) => {
    const name = fmt.itemName(c.item, catalogItems);
    const isTarget = c.item.iri === focusItem;
    const proofsId = `proofs-${i}`;
    const panel = h("div", { id: proofsId, hidden: !isTarget },
      proofList(c.proofs, c.other_proofs, { limit: 10, catalog: catalogItems }));
    const toggle = h("button", { type: "button", class: "quiet", "aria-expanded": String(isTarget), "aria-controls": proofsId },
      `Statements behind the score (${c.evidence})`);
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      panel.hidden = !open;
    });
    const trend = c.trend || {};
    const change = typeof trend.change === "number" ? `${trend.change >= 0 ? "+" : ""}${fmt.precise(trend.change)}` : "";
    list.append(h("li", { class: ["skill", isTarget && "target"], "data-item": c.item.iri },
      h("h3", { tabindex: "-1" }, h("a", { href: fmt.route("experts", [c.item.iri]), title: `Experts in ${name}` }, name)),
      h("div", { class: "scoreline" },
        h("span", { class: ["badge", fmt.levelClass(c.level)] }, `level ${c.level}`),
        h("span", {}, `score ${fmt.precise(c.score)}`),
        sparkline(c, basis, name),
        h("span", { class: "muted" }, `${trend.direction || "steady"} ${change} in ${trend.days || 90} days`)),
      h("p", { class: "meta" }, `${c.evidence} ${c.evidence === 1 ? "statement" : "statements"} · first ${fmt.date(c.first)} · last ${fmt.date(c.last)}`),
      toggle, panel));
  });
  out.push(list);
  return out;
}

/** The score at 13 monthly points up to now, computed from the listed proofs. */
function series(scored, basis) {
  const now = Date.parse(basis.at) || Date.now();
  const half = (basis.half_life_days || 365) * DAY;
  const proofs = scored.proofs.map((p) => ({ at: Date.parse(p.at), value: p.weight ? p.weight.value : 0 }));
  const points = [];
  for (let k = 12; k >= 0; k--) {
    const t = now - k * (365.25 / 12) * DAY;
    let s = 0;
    for (const p of proofs) if (p.at <= t) s += p.value * Math.pow(2, -(t - p.at) / half);
    points.push(s);
  }
  return points;
}

function sparkline(scored, basis, name) {
  const points = series(scored, basis);
  const w = 120;
  const hgt = 32;
  const pad = 3;
  const lo = Math.min(0, ...points);
  const hi = Math.max(0.1, ...points);
  const x = (i) => pad + (i * (w - 2 * pad)) / (points.length - 1);
  const y = (v) => hgt - pad - ((v - lo) * (hgt - 2 * pad)) / (hi - lo);
  const partial = scored.other_proofs && scored.other_proofs.count > 0 ? " (from the strongest proofs only)" : "";
  const label = `${name}: score ${fmt.precise(points[0])} twelve months ago, ${fmt.precise(points[6])} six months ago, ${fmt.precise(points[12])} now${partial}`;
  return svg("svg", { class: "spark", width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: "img", "aria-label": label },
    svg("title", {}, label),
    svg("line", { x1: pad, x2: w - pad, y1: y(0), y2: y(0) }),
    svg("polyline", { points: points.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ") }),
    svg("circle", { cx: x(points.length - 1), cy: y(points[points.length - 1]), r: 2.5 }));
}

/** The person against a role: each need's target, the person's level, and for gaps the
 * activities recommended (GET /profiles/gaps). */
function gapsSection(id, parts, params, catalogItems) {
  const role = params.get("role") || "";
  const roles = [...catalogItems.values()].filter((i) => i.kind === "role");
  const [field, select] = labelledSelect("person-role", "Role", [{ value: "", label: "Choose a role" },
    ...roles.map((r) => ({ value: r.iri, label: r.name }))], role);
  const form = h("form", { class: "controls", "aria-label": "Compare with a role" },
    field, h("div", {}, h("button", { type: "submit" }, "Compare")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const query = Object.fromEntries(params);
    location.hash = fmt.route("person", parts.length ? parts : [], { ...query, item: "", role: select.value });
  });
  const out = h("div", { class: "gaps" });
  const section = h("section", { class: "card role-card", "aria-labelledby": "gaps-title" },
    h("h3", { id: "gaps-title" }, "Against a role"), form, out);
  if (!role) return section;
  out.append(h("p", { class: "loading" }, "Comparing…"));
  get("/api/v1/profiles/gaps", { person: id, role }).then((gaps) => {
    const rows = gaps.needs.map((n) => h("tr", {},
      h("th", { scope: "row" }, fmt.itemName(n.item, catalogItems)),
      h("td", { class: "n" }, String(n.target_level)),
      h("td", { class: "n" }, h("span", { class: ["badge", fmt.levelClass(n.level, n.score !== 0)] }, String(n.level))),
      h("td", { class: "n" }, `${fmt.precise(n.score)} / ${fmt.precise(n.target_score)}`),
      h("td", {}, n.gap
        ? [h("strong", { class: "negative" }, "gap"), (n.recommendations || []).length
            ? h("ul", { class: "plain" }, n.recommendations.map((a) => h("li", {}, "try ", h("span", { class: "mono" }, a.name || fmt.itemName(a.activity, catalogItems)))))
            : null]
        : "met")));
    out.replaceChildren(h("div", { class: "scroller" }, h("table", { class: "data person-gaps" },
      h("caption", { class: "visually-hidden" }, `Needs of ${fmt.itemName(gaps.role, catalogItems)}`),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Item"),
        h("th", { scope: "col", class: "n" }, "Target level"),
        h("th", { scope: "col", class: "n" }, "Level"),
        h("th", { scope: "col", class: "n" }, "Score / needed"),
        h("th", { scope: "col" }, "Gap and recommended activities"))),
      h("tbody", {}, rows))));
  }).catch((e) => out.replaceChildren(message(describe(e), "error")));
  return section;
}
