// The page's entry: sign-in, navigation and the hash router (#/view/part?query).

import { get, credential, saveCredential, forgetCredential, credentialLabel, onRefused, forgetCatalog } from "./api.js";
import { h, announce, message } from "./dom.js";
import { describe } from "./statement.js";
import * as heatmap from "./heatmap.js";
import * as person from "./person.js";
import * as experts from "./experts.js";
import * as upskilling from "./upskilling.js";
import * as statement from "./statement.js";

const VIEWS = {
  team: heatmap.show,
  person: person.show,
  experts: experts.show,
  upskilling: upskilling.show,
  statement: statement.show,
};

const $ = (id) => document.getElementById(id);

/** Each rendering gets a number; an answer arriving for an older one is dropped. */
let generation = 0;
let firstRoute = true;

async function route() {
  const current = ++generation;
  const viewEl = $("view");
  if (!credential()) {
    showSignIn();
    return;
  }
  $("sign-in").hidden = true;
  $("nav").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = `Signed in with ${credentialLabel()}`;
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const name = VIEWS[parts[0]] ? parts[0] : "team";
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const section = h("section", { class: "view", "data-view": name, "aria-busy": "true" });
  viewEl.replaceChildren(section);
  let focusedByView = false;
  const ctx = {
    stale: () => current !== generation,
    focused: () => { focusedByView = true; },
  };
  try {
    await VIEWS[name](section, parts.slice(1), new URLSearchParams(query || ""), ctx);
  } catch (e) {
    if (ctx.stale()) return;
    section.append(message(describe(e), "error"));
  }
  if (ctx.stale()) return;
  section.removeAttribute("aria-busy");
  // After a navigation, reading starts at the new view's heading.
  if (!firstRoute && !focusedByView) {
    const heading = section.querySelector("h2");
    if (heading) heading.focus();
  }
  firstRoute = false;
}

function showSignIn(error = "") {
  generation++;
  $("view").replaceChildren();
  $("nav").hidden = true;
  $("who").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = error;
  const c = credential();
  if (!c) $("key").focus();
}

function setupSignIn() {
  const form = $("sign-in-form");
  const kindChanged = () => {
    const bearer = form.elements.kind.value === "bearer";
    $("basic-fields").hidden = bearer;
    $("bearer-fields").hidden = !bearer;
  };
  for (const radio of form.elements.kind) radio.addEventListener("change", kindChanged);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const error = $("sign-in-error");
    error.textContent = "";
    const kind = form.elements.kind.value;
    const c = kind === "bearer"
      ? { kind, token: $("token").value.trim() }
      : { kind, key: $("key").value.trim(), secret: $("secret").value };
    if (kind === "bearer" ? !c.token : !c.key || !c.secret) {
      error.textContent = kind === "bearer" ? "Enter an access token." : "Enter the key and the secret.";
      return;
    }
    saveCredential(c);
    forgetCatalog();
    try {
      // A cheap read that needs evidence:read, as every view does.
      await get("/api/v1/teams", { limit: 1 });
    } catch (failure) {
      forgetCredential();
      error.textContent = failure.status === 401
        ? "The server did not accept this credential."
        : failure.status === 403
          ? `This credential may not read skill evidence (it needs the evidence:read scope): ${failure.message}`
          : describe(failure);
      return;
    }
    $("secret").value = "";
    $("token").value = "";
    announce("Signed in.");
    if (!location.hash || location.hash === "#") location.hash = "#/team";
    else route();
  });
  $("sign-out").addEventListener("click", () => {
    forgetCredential();
    forgetCatalog();
    announce("Signed out.");
    showSignIn();
  });
  onRefused(() => {
    forgetCredential();
    forgetCatalog();
    showSignIn("The server no longer accepts this credential; sign in again.");
  });
}

setupSignIn();
window.addEventListener("hashchange", route);
route();
