// #/experts/ITEM: who knows an item best, and the items that go with it.

import { get, catalog, itemPath } from "./api.js";
import { h, labelledSelect, announce, message } from "./dom.js";
import * as fmt from "./format.js";
import { proofList, describe } from "./statement.js";

const KIND_NAMES = {
  area_of_expertise: "Areas of expertise",
  competency: "Competencies",
  skill: "Skills",
  knowledge: "Knowledge",
  ability: "Abilities",
  cluster: "Clusters",
  other: "Other",
  role: "Roles",
};
const KIND_ORDER = Object.keys(KIND_NAMES);

/** The items one can look experts up for, grouped by kind (roles last). */
export function itemOptions(items, { roles = false } = {}) {
  return [...items.values()]
    .filter((i) => (roles ? i.kind === "role" : i.kind !== "role"))
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.name.localeCompare(b.name))
    .map((i) => ({ value: i.iri, label: i.code ? `${i.name} (${i.code})` : i.name, group: roles ? undefined : KIND_NAMES[i.kind] || i.kind }));
}

export async function show(view, [item], params, ctx) {
  view.append(h("h2", { tabindex: "-1" }, "Expert finder"));
  const cat = await catalog();
  if (ctx.stale()) return;
  const options = itemOptions(cat.items);
  const [field, select] = labelledSelect("item-select", "Skill or competency", options, item);
  const form = h("form", { class: "controls card", "aria-label": "Choose an item" },
    field, h("div", {}, h("button", { type: "submit" }, "Find experts")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = fmt.route("experts", [select.value]);
  });
  view.append(form);
  if (cat.error) view.append(message(`Frameworks could not be read: ${describe(cat.error)}`));
  if (!item) {
    view.append(h("p", { class: "muted" }, "Choose an item to see the people with the strongest evidence for it and the skills that go with it."));
    return;
  }
  const body = h("div", {}, h("p", { class: "loading" }, "Looking for experts…"));
  view.append(body);
  let experts;
  let adjacent;
  try {
    [experts, adjacent] = await Promise.all([
      get(`/api/v1/competencies/${itemPath(item)}/experts`, { limit: 20 }),
      get(`/api/v1/competencies/${itemPath(item)}/adjacent`),
    ]);
  } catch (e) {
    if (ctx.stale()) return;
    body.replaceChildren(message(describe(e), "error"));
    return;
  }
  if (ctx.stale()) return;
  const name = fmt.itemName(experts.item, cat.items);
  const list = h("ol", { class: "plain expert-list" });
  const more = h("button", { type: "button", class: "quiet", hidden: experts.next_offset == null }, "More experts");
  let offset = experts.next_offset;
  const addExperts = (answer) => {
    for (const x of answer.experts) list.append(expertItem(x, experts.item, cat.items));
    offset = answer.next_offset;
    more.hidden = offset == null;
  };
  addExperts(experts);
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      addExperts(await get(`/api/v1/competencies/${itemPath(item)}/experts`, { limit: 20, offset }));
    } catch (e) {
      more.after(message(describe(e), "error"));
    }
    more.disabled = false;
  });
  body.replaceChildren(
    h("div", { class: "two" },
      h("section", { class: "card", "aria-labelledby": "experts-title" },
        h("h3", { id: "experts-title" }, `Experts in ${name}`),
        experts.experts.length ? list : message("Nobody has positive evidence for this item yet."),
        more),
      h("section", { class: "card", "aria-labelledby": "adjacent-title" },
        h("h3", { id: "adjacent-title" }, "Adjacent skills"),
        adjacentView(adjacent, cat.items))));
  announce(`${experts.experts.length} experts in ${name}.`);
}

function expertItem(x, item, catalogItems) {
  const label = fmt.personLabel(x.person);
  const panelId = `expert-proofs-${x.rank}`;
  const panel = h("div", { id: panelId, hidden: true }, proofList(x.proofs, x.other_proofs, { catalog: catalogItems }));
  const toggle = h("button", { type: "button", class: "link", "aria-expanded": "false", "aria-controls": panelId }, "proofs");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
  });
  return h("li", { class: "expert" },
    h("p", {},
      h("span", { class: "num" }, `${x.rank}. `),
      h("a", { href: fmt.route("person", [x.person.id], { item: item.iri }) }, label),
      " ", h("span", { class: ["badge", fmt.levelClass(x.level)] }, `level ${x.level}`),
      ` score ${fmt.precise(x.score)} · ${x.evidence} ${x.evidence === 1 ? "statement" : "statements"} · last ${fmt.date(x.last)} · `, toggle),
    panel);
}

function adjacentView(adjacent, catalogItems) {
  const out = [];
  out.push(h("p", { class: "muted" }, `${adjacent.people} of ${adjacent.population} people with any evidence have evidence for this item.`));
  const rows = (adjacent.co_occurring || []).map((c) =>
    h("tr", {},
      h("td", {}, h("a", { href: fmt.route("experts", [c.item.iri]) }, fmt.itemName(c.item, catalogItems))),
      h("td", { class: "n" }, String(c.people_both)),
      h("td", { class: "n" }, fmt.precise(c.lift)),
      h("td", { class: "n" }, fmt.percent(c.confidence))));
  out.push(rows.length
    ? h("div", { class: "scroller" }, h("table", { class: "data adjacent" },
        h("caption", { class: "visually-hidden" }, "Items people with this one also have"),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Item"),
          h("th", { scope: "col", class: "n", title: "people with both" }, "Both"),
          h("th", { scope: "col", class: "n" }, "Lift"),
          h("th", { scope: "col", class: "n", title: "people with both ÷ people with this item" }, "Confidence"))),
        h("tbody", {}, rows)))
    : h("p", {}, "No other items co-occur in people's evidence yet."));
  const related = adjacent.related || [];
  if (related.length) {
    out.push(h("h4", {}, "In the framework"),
      h("ul", {}, related.map((r) => h("li", {},
        `${r.direction === "incoming" ? "is " : ""}${r.relation.replace(/_/g, " ")}${r.direction === "incoming" ? " of" : ""} `,
        h("a", { href: fmt.route("experts", [r.item.iri]) }, fmt.itemName(r.item, catalogItems))))));
  }
  return out;
}
