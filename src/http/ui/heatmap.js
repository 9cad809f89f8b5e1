// #/team/ID?role=IRI: a team's people × items, coloured by strength, the proofs behind a
// cell on hover or focus, and a role's gap row.

import { get, allTeams, catalog, mapLimited } from "./api.js";
import { h, labelledSelect, announce, message } from "./dom.js";
import * as fmt from "./format.js";
import { proofList, describe } from "./statement.js";

/** Profiles already read for the details panel, by person id (cleared per map). */
let profiles = new Map();

function profileOf(person) {
  if (!profiles.has(person)) {
    const answer = get("/api/v1/profiles", { person, proofs: 10 });
    answer.catch(() => profiles.delete(person));
    profiles.set(person, answer);
  }
  return profiles.get(person);
}

export async function show(view, [teamId], params, ctx) {
  const role = params.get("role") || "";
  view.append(h("h2", { tabindex: "-1" }, "Team heat map"));
  const [teams, cat] = await Promise.all([allTeams(), catalog()]);
  if (ctx.stale()) return;
  if (!teams.length) {
    view.append(message("No teams yet. Teams appear as identified Groups in statements (actor or context.team), or are defined with POST /api/v1/teams."));
    return;
  }
  const chosen = teams.some((t) => t.id === teamId) ? teamId : teams[0].id;
  const roles = [...cat.items.values()].filter((i) => i.kind === "role");

  const [teamField, teamSelect] = labelledSelect("team-select", "Team",
    teams.map((t) => ({ value: t.id, label: `${t.name || t.id} (${t.members.length})` })), chosen);
  const [roleField, roleSelect] = labelledSelect("role-select", "Compare with role",
    [{ value: "", label: "No role" }, ...roles.map((r) => ({ value: r.iri, label: r.name }))], role);
  const form = h("form", { class: "controls card", "aria-label": "Choose a team" },
    teamField, roleField, h("div", {}, h("button", { type: "submit" }, "Show map")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = fmt.route("team", [teamSelect.value], { role: roleSelect.value });
  });
  view.append(form);
  if (cat.error) view.append(message(`Roles are not listed: ${describe(cat.error)}`));

  const body = h("div", {}, h("p", { class: "loading" }, "Loading the team's skills…"));
  view.append(body);
  profiles = new Map();
  let skills;
  let people;
  try {
    skills = await get(`/api/v1/teams/${encodeURIComponent(chosen)}/skills`, { role });
    people = await resolvePeople(skills);
  } catch (e) {
    if (ctx.stale()) return;
    body.replaceChildren(message(describe(e), "error"));
    return;
  }
  if (ctx.stale()) return;
  body.replaceChildren(...render(skills, people, cat.items));
  announce(`Heat map of ${skills.team.name}: ${people.length} people, ${skills.skills.length} items.`);
}

/** The team's people (id → label), from its members' identities and the scores. */
async function resolvePeople(skills) {
  const found = await mapLimited(skills.team.members || [], 6, (agent) =>
    get("/api/v1/people", { agent: JSON.stringify(agent) }).catch(() => null));
  const people = new Map();
  for (const person of found) {
    if (person && !people.has(person.id)) people.set(person.id, { id: person.id, label: fmt.personLabel(person) });
  }
  for (const skill of skills.skills) {
    for (const s of skill.scores) {
      if (!people.has(s.person)) people.set(s.person, { id: s.person, label: `person ${s.person.slice(0, 8)}` });
    }
  }
  return [...people.values()].sort((a, b) => a.label.localeCompare(b.label));
}

function render(skills, people, catalogItems) {
  const needs = new Map((skills.needs || []).map((n) => [n.item.iri, n]));
  const columns = skills.skills.map((s) => ({ ref: s.item, skill: s }));
  for (const need of skills.needs || []) {
    if (!columns.some((c) => c.ref.iri === need.item.iri)) columns.push({ ref: need.item, skill: null });
  }
  if (!columns.length) {
    return [message(`No evidence yet for the ${people.length} people of ${skills.team.name}, and no role chosen.`)];
  }
  const byItem = new Map(columns.map((c) => [c.ref.iri, new Map((c.skill ? c.skill.scores : []).map((s) => [s.person, s]))]));
  const name = (ref) => fmt.itemName(ref, catalogItems);
  detailsFor = "";

  // Not a live region: it changes with every cell the focus passes, and each cell's button
  // already names its score; Enter opens the full proofs.
  const details = h("aside", { class: "details card", "aria-labelledby": "details-title" },
    h("h3", { id: "details-title" }, "Proofs"),
    h("p", { class: "muted" }, "Point at a cell or move to it with the arrow keys to see the statements behind it; press Enter to open the person's profile at that item."));

  const head = h("tr", {}, h("th", { scope: "col", class: "corner" }, "Person"),
    columns.map((c) => h("th", { scope: "col", class: "item", title: name(c.ref) }, h("span", {}, name(c.ref)))));

  const rows = people.map((person, r) =>
    h("tr", {},
      h("th", { scope: "row" }, h("a", { href: fmt.route("person", [person.id]) }, person.label)),
      columns.map((c, col) => {
        const s = byItem.get(c.ref.iri).get(person.id);
        const label = s
          ? `${person.label}, ${name(c.ref)}: score ${fmt.score(s.score)}, level ${s.level}, ${s.evidence} statements`
          : `${person.label}, ${name(c.ref)}: no evidence`;
        const button = h("button", {
          type: "button",
          class: ["cell", fmt.levelClass(s && s.level, Boolean(s))],
          tabindex: r === 0 && col === 0 ? "0" : "-1",
          "aria-label": label,
          "data-row": r,
          "data-col": col,
          "data-person": person.id,
          "data-item": c.ref.iri,
          "data-score": s ? s.score : "",
        }, fmt.score(s && s.score));
        const explain = () => showDetails(details, person, c.ref, s, catalogItems);
        button.addEventListener("focus", explain);
        button.addEventListener("mouseenter", explain);
        button.addEventListener("click", () => {
          location.hash = fmt.route("person", [person.id], { item: c.ref.iri });
        });
        return h("td", {}, button);
      })));

  const footRows = [
    h("tr", { class: "team" },
      h("th", { scope: "row" }, `Team (${skills.size})`),
      columns.map((c) => c.skill
        ? h("td", { "aria-label": `${name(c.ref)}: ${c.skill.members} of ${skills.size} people, mean score ${fmt.precise(c.skill.strength)}` },
            `${c.skill.members}/${skills.size}`)
        : h("td", { "aria-label": `${name(c.ref)}: nobody` }, `0/${skills.size}`))),
  ];
  if (skills.role) {
    footRows.push(h("tr", { class: "role-gap" },
      h("th", { scope: "row" }, `Gap for ${skills.role.name || fmt.lastSegment(skills.role.iri)}`),
      columns.map((c) => {
        const need = needs.get(c.ref.iri);
        if (!need) return h("td", { "aria-label": `${name(c.ref)}: not needed by the role` }, "");
        const text = need.gap ? `L${need.target_level} gap` : `L${need.target_level} ✓${need.members_at_level}`;
        return h("td", {
          class: need.gap ? "gap" : "met",
          "aria-label": `${name(c.ref)}: the role needs level ${need.target_level}; ${need.members_at_level} at that level, best level ${need.best_level}${need.gap ? ": a gap" : ""}`,
        }, text);
      })));
  }

  const caption = h("caption", { class: "visually-hidden" }, `${skills.team.name}: each person's score per item`);
  const help = h("p", { id: "heat-help", class: "muted help" },
    "Each person's score per item; the colour shows the level. Arrow keys move between cells, Home and End to a row's ends; Enter opens the person's proofs.");
  const table = h("table", { class: "heat", "aria-describedby": "heat-help" },
    caption, h("thead", {}, head), h("tbody", {}, rows), h("tfoot", {}, footRows));
  table.addEventListener("keydown", (e) => move(e, table, people.length, columns.length));

  const gaps = (skills.needs || []).filter((n) => n.gap);
  const summary = skills.role
    ? h("p", { class: "gap-summary" }, gaps.length
        ? `No one in the team reaches the level ${skills.role.name} needs in: ${gaps.map((n) => `${name(n.item)} (level ${n.target_level})`).join(", ")}.`
        : `The team covers every need of ${skills.role.name} at its target level.`)
    : null;

  return [
    h("div", { class: "map-layout" },
      h("div", {},
        help,
        h("div", { class: "scroller card", role: "region", "aria-label": "Heat map (scrolls sideways)" }, table),
        summary,
        legend(skills.basis)),
      details),
  ];
}

function legend(basis) {
  const from = (basis && basis.level_from) || [1, 2.5, 5, 8];
  const entries = [
    ["lv-none", "–", "no evidence"],
    ["lv0", "0", "failures outweigh"],
    ["lv1", "1", "score above 0"],
    ["lv2", "2", `from ${from[0]}`],
    ["lv3", "3", `from ${from[1]}`],
    ["lv4", "4", `from ${from[2]}`],
    ["lv5", "5", `from ${from[3]}`],
  ];
  return h("ul", { class: "legend", "aria-label": "Colour by level" },
    entries.map(([cls, level, text]) => h("li", {}, h("span", { class: ["swatch", cls] }, level), `level ${level === "–" ? "none" : level}: ${text}`)),
    basis && basis.at ? h("li", { class: "muted" }, `scores as of ${fmt.date(basis.at)}, half-life ${basis.half_life_days} days`) : null);
}

let detailsFor = "";

async function showDetails(panel, person, item, s, catalogItems) {
  const key = `${person.id} ${item.iri}`;
  if (detailsFor === key) return;
  detailsFor = key;
  const name = fmt.itemName(item, catalogItems);
  const title = h("h3", { id: "details-title" }, `${person.label} — ${name}`);
  if (!s) {
    panel.replaceChildren(title, h("p", {}, "No evidence for this item."));
    return;
  }
  const link = h("a", { href: fmt.route("person", [person.id], { item: item.iri }) }, `Open ${person.label}'s profile at this item`);
  const summary = h("p", {}, h("span", { class: ["badge", fmt.levelClass(s.level)] }, `level ${s.level}`), ` score ${fmt.precise(s.score)} from ${s.evidence} ${s.evidence === 1 ? "statement" : "statements"}`);
  panel.replaceChildren(title, summary, h("p", { class: "loading" }, "Loading proofs…"), link);
  try {
    const profile = await profileOf(person.id);
    if (detailsFor !== key) return;
    const entry = profile.competencies.find((c) => c.item.iri === item.iri);
    panel.replaceChildren(title, summary,
      entry ? proofList(entry.proofs, entry.other_proofs, { limit: 10, catalog: catalogItems }) : h("p", {}, "No proofs now."),
      h("p", {}, link));
  } catch (e) {
    if (detailsFor !== key) return;
    panel.replaceChildren(title, summary, message(describe(e), "error"), link);
  }
}

/** Arrow-key movement between cells (one tab stop for the whole grid). */
function move(event, table, rowCount, colCount) {
  const cell = event.target.closest("button.cell");
  if (!cell) return;
  let r = Number(cell.dataset.row);
  let c = Number(cell.dataset.col);
  switch (event.key) {
    case "ArrowRight": c = Math.min(colCount - 1, c + 1); break;
    case "ArrowLeft": c = Math.max(0, c - 1); break;
    case "ArrowDown": r = Math.min(rowCount - 1, r + 1); break;
    case "ArrowUp": r = Math.max(0, r - 1); break;
    case "Home": c = 0; if (event.ctrlKey) r = 0; break;
    case "End": c = colCount - 1; if (event.ctrlKey) r = rowCount - 1; break;
    default: return;
  }
  event.preventDefault();
  const next = table.querySelector(`button.cell[data-row="${r}"][data-col="${c}"]`);
  if (!next || next === cell) return;
  cell.tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
  next.scrollIntoView({ block: "nearest", inline: "nearest" });
}
