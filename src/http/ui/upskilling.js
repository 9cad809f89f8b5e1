// #/upskilling?role=IRI&team=ID: per item of a role, how many people are below target,
// how coverage moved, and the activities that closed the gap for others.

import { get, allTeams, catalog, ApiError } from "./api.js";
import { h, labelledSelect, announce, message } from "./dom.js";
import * as fmt from "./format.js";
import { describe } from "./statement.js";
import { itemOptions } from "./experts.js";

export async function show(view, _parts, params, ctx) {
  const role = params.get("role") || "";
  const team = params.get("team") || "";
  view.append(h("h2", { tabindex: "-1" }, "Upskilling needs"));
  const [cat, teams] = await Promise.all([catalog(), allTeams().catch(() => [])]);
  if (ctx.stale()) return;
  const [roleField, roleSelect] = labelledSelect("upskilling-role", "Role", itemOptions(cat.items, { roles: true }), role);
  const [teamField, teamSelect] = labelledSelect("upskilling-team", "People",
    [{ value: "", label: "Everyone" }, ...teams.map((t) => ({ value: t.id, label: `Team ${t.name || t.id}` }))], team);
  const form = h("form", { class: "controls card", "aria-label": "Choose a role" },
    roleField, teamField, h("div", {}, h("button", { type: "submit" }, "Show needs")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = fmt.route("upskilling", [], { role: roleSelect.value, team: teamSelect.value });
  });
  view.append(form);
  if (cat.error) view.append(message(`Roles are not listed: ${describe(cat.error)}`));
  if (!role) {
    view.append(h("p", { class: "muted" }, "Choose a role to see, per item it needs, how many people are below the target level and which activities helped others reach it."));
    return;
  }
  const body = h("div", {}, h("p", { class: "loading" }, "Computing upskilling needs…"));
  view.append(body);
  let answer;
  try {
    answer = await get("/api/v1/upskilling", { role, team });
  } catch (e) {
    if (ctx.stale()) return;
    if (e instanceof ApiError && e.status === 404 && !e.fromApi) {
      body.replaceChildren(message("This server does not offer upskilling needs yet (GET /api/v1/upskilling is not available). Upgrade the gateway to see them."));
    } else {
      body.replaceChildren(message(describe(e), "error"));
    }
    return;
  }
  if (ctx.stale()) return;
  body.replaceChildren(...render(answer, cat.items, teams));
  announce(`Upskilling needs: ${answer.items.length} items.`);
}

/** The rows of a page of items. */
function itemRows(answer, catalogItems) {
  return answer.items.map((i) => {
    const cov = i.coverage || {};
    const closers = i.closers || [];
    return h("tr", {},
      h("th", { scope: "row" }, h("a", { href: fmt.route("experts", [i.item]) }, i.name || fmt.itemName(i.item, catalogItems))),
      h("td", { class: "n" }, `level ${i.target}`),
      h("td", { class: "n" }, `${i.below} of ${answer.people}`),
      h("td", { class: "n", title: "levels missing, summed over the people below target" }, String(i.gap)),
      h("td", { class: "n" }, coverage(cov.now)),
      h("td", { class: "n" }, coverage(cov.days_90)),
      h("td", { class: "n" }, coverage(cov.days_365)),
      h("td", {}, closers.length
        ? h("ul", { class: "plain closers" }, closers.map((c) => h("li", {},
            h("span", { class: "mono" }, c.name || c.activity),
            h("br"),
            h("span", { class: "muted" }, `${c.learners} ${c.learners === 1 ? "learner" : "learners"}, ${c.reached} reached the level, success ${fmt.percent(c.success_rate)}`))))
        : h("span", { class: "muted" }, "none yet")));
  });
}

/** A coverage figure: the share of the people at the target level. */
function coverage(value) {
  return fmt.percent(value);
}

export function render(answer, catalogItems, teams = []) {
  const roleName = answer.role_name || fmt.itemName(answer.role, catalogItems);
  const team = answer.team && teams.find((t) => t.id === answer.team);
  const who = answer.team ? `team ${team ? team.name : answer.team}` : "everyone with evidence";
  const out = [
    h("p", {}, `${roleName}: ${answer.people} ${answer.people === 1 ? "person" : "people"} (${who})${answer.at ? `, levels as of ${fmt.date(answer.at)}` : ""}. Coverage is the share of them at the target level.`),
  ];
  if (!answer.items.length) {
    out.push(message("The role needs no items."));
    return out;
  }
  const tbody = h("tbody", {}, itemRows(answer, catalogItems));
  out.push(h("div", { class: "scroller card", role: "region", "aria-label": "Upskilling needs (scrolls sideways)", tabindex: "0" },
    h("table", { class: "data upskilling" },
      h("caption", { class: "visually-hidden" }, `Upskilling needs for ${roleName}`),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Item"),
        h("th", { scope: "col", class: "n" }, "Target"),
        h("th", { scope: "col", class: "n" }, "Below target"),
        h("th", { scope: "col", class: "n" }, "Total gap"),
        h("th", { scope: "col", class: "n" }, "Coverage now"),
        h("th", { scope: "col", class: "n" }, "90 days ago"),
        h("th", { scope: "col", class: "n" }, "365 days ago"),
        h("th", { scope: "col" }, "Activities that closed the gap"))),
      tbody)));
  // `more` is the path of the next page of items.
  let next = answer.more;
  const more = h("button", { type: "button", class: "quiet", hidden: typeof next !== "string" }, "More items");
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const url = new URL(next, location.origin);
      const page = await get(url.pathname, Object.fromEntries(url.searchParams));
      tbody.append(...itemRows(page, catalogItems));
      next = page.more;
      more.hidden = typeof next !== "string";
    } catch (e) {
      more.after(message(describe(e), "error"));
    }
    more.disabled = false;
  });
  out.push(more);
  return out;
}
