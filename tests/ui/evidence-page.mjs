// The evidence page (/ui/) end to end: seeds a gateway over HTTP, then drives headless
// Chromium through it — sign in, the team heat map (cells, a known strength, a role's gap
// row, moving between cells with the keyboard, the proofs behind a cell), the drill-down
// to a person's proofs and a statement, the expert finder, upskilling needs when the
// gateway serves them — checks text contrast and the phone layout, saves screenshots, and
// fails on any console error. Run by tests/ui/run, which starts the gateway.

import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run tests/ui/run)`);
  return value;
};
const BASE = env("UI_BASE");
const KEY = env("UI_KEY");
const SECRET = env("UI_SECRET");
const OUT = env("UI_OUT");
const require = createRequire(`${env("UI_PLAYWRIGHT")}/`);
const { chromium } = require(env("UI_PLAYWRIGHT"));
const AXE = readFileSync(join(env("UI_AXE"), "axe.min.js"), "utf8");

const WLP = "https://w3id.org/lrsgate/frameworks/wlp";
const COACHING = `${WLP}/aoe/coaching`;
const TRAINING = `${WLP}/aoe/delivering-training`;
const DESIGNING = `${WLP}/aoe/designing-learning`;
const MEASURING = `${WLP}/aoe/measuring-and-evaluating`;
const SPECIALIST = `${WLP}/role/professional-specialist`;
const VERB = (v) => `http://adlnet.gov/expapi/verbs/${v}`;
const DAY = 86400000;
const AUTH = `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString("base64")}`;

async function call(method, path, body, headers = {}) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: AUTH, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const agent = (name) => ({ objectType: "Agent", name, mbox: `mailto:${name.toLowerCase()}@example.com` });

/** A statement about a framework item itself (an explicit tag, confidence 1). */
function statement(name, verb, item, daysAgo, result) {
  return {
    id: randomUUID(),
    actor: agent(name),
    verb: { id: VERB(verb), display: { "en-US": verb } },
    object: { objectType: "Activity", id: item },
    timestamp: new Date(Date.now() - daysAgo * DAY).toISOString(),
    ...(result ? { result } : {}),
  };
}

// Ada: Coaching mastered three times in the last days (score 2.99, level 3), Delivering
// training at level 2. Ben: Designing learning rising over the year, some Coaching. Cy: a
// failed Coaching course (a negative score) and Measuring and evaluating. Dee, outside the
// team, is the strongest coach.
const adaCoaching = [1, 2, 3].map((d) => statement("Ada", "mastered", COACHING, d));
const seeded = [
  ...adaCoaching,
  statement("Ada", "passed", TRAINING, 200, { success: true, score: { scaled: 0.8 } }),
  statement("Ada", "completed", TRAINING, 30),
  statement("Ben", "completed", COACHING, 100),
  statement("Ben", "mastered", DESIGNING, 300),
  statement("Ben", "mastered", DESIGNING, 150),
  statement("Ben", "mastered", DESIGNING, 10),
  statement("Cy", "failed", COACHING, 20),
  statement("Cy", "passed", MEASURING, 5),
  ...[1, 2, 3, 4, 5].map((d) => statement("Dee", "mastered", COACHING, d)),
];

async function seed() {
  await call("POST", "/xapi/statements", seeded, { "X-Experience-API-Version": "1.0.3" });
  const team = await call("POST", "/api/v1/teams", {
    name: "Learning team",
    members: ["Ada", "Ben", "Cy"].map((n) => ({ mbox: agent(n).mbox })),
  });
  const doc = await fetch(`${BASE}/api/v1/openapi.json`).then((r) => r.json());
  return { team, upskilling: Boolean(doc.paths["/api/v1/upskilling"]) };
}

/** Text contrast of every visible text element matching `selector` (WCAG 2.x). */
async function lowContrast(page, selector) {
  return page.evaluate((sel) => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const bad = [];
    for (const el of document.querySelectorAll(sel)) {
      if (!el.offsetParent || !el.textContent.trim()) continue;
      const fg = rgb(getComputedStyle(el).color).slice(0, 3);
      const [a, b] = [lum(fg), lum(background(el))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) bad.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}": ${ratio.toFixed(2)}`);
    }
    return bad;
  }, selector);
}

/**
 * The page's accessibility problems by axe-core's WCAG 2.1 A and AA rules (evaluated
 * through the DevTools protocol, which the page's CSP does not govern).
 */
async function axeViolations(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  });
}

async function main() {
  const { team, upskilling } = await seed();
  const profileDir = mkdtempSync(join(tmpdir(), "lrsgate-ui-"));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.UI_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  const problems = [];
  const page = context.pages()[0] || (await context.newPage());
  // Generous for a loaded CI machine; the whole run is bounded by tests/ui/run.
  page.setDefaultTimeout(30000);
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  let current = "start";
  const step = (text) => {
    current = text;
    console.log(`-- ${text}`);
  };
  /** A screenshot of the view, and no accessibility violations in it. */
  const check = async (name) => {
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
    assert.deepEqual(await axeViolations(page), [], `accessibility of ${name}`);
  };
  try {
    step("sign in");
    await page.goto(`${BASE}/ui/`);
    await page.getByLabel("Key", { exact: true }).fill(KEY);
    await page.getByLabel("Secret", { exact: true }).fill(SECRET);
    await page.getByRole("button", { name: "Sign in" }).click();

    step("heat map: cells and a known strength");
    await page.locator("table.heat").waitFor();
    assert.equal(await page.locator("#team-select").inputValue(), team.id);
    const cells = page.locator("table.heat tbody button.cell");
    // Ada, Ben, Cy × Coaching, Delivering training, Designing learning, Measuring and evaluating.
    assert.equal(await cells.count(), 12);
    assert.equal(await page.locator("table.heat tbody tr").count(), 3);
    const adaCoachingCell = page.getByRole("button", { name: /^ada@example\.com, Coaching: score/ });
    assert.equal(await adaCoachingCell.textContent(), "3.0");
    assert.match(await adaCoachingCell.getAttribute("class"), /\blv3\b/);
    const cyCoaching = page.getByRole("button", { name: /^cy@example\.com, Coaching: score -0\.3, level 0/ });
    assert.match(await cyCoaching.getAttribute("class"), /\blv0\b/);

    step("a role's gap row");
    await page.locator("#role-select").selectOption(SPECIALIST);
    await page.getByRole("button", { name: "Show map" }).click();
    await page.locator("tfoot tr.role-gap").waitFor();
    // The role draws on all nine areas of expertise at level 4: nine columns, all gaps.
    assert.equal(await cells.count(), 27);
    assert.equal(await page.locator("tfoot tr.role-gap td.gap").count(), 9);
    assert.match(await page.locator(".gap-summary").textContent(), /Coaching \(level 4\)/);
    await check("heatmap-desktop");

    step("keyboard between cells, proofs on focus");
    await page.locator("table.heat tbody button.cell[tabindex='0']").focus();
    const focused = () => page.evaluate(() => [document.activeElement.dataset.row, document.activeElement.dataset.col].join(","));
    assert.equal(await focused(), "0,0");
    await page.keyboard.press("ArrowRight");
    assert.equal(await focused(), "0,1");
    await page.keyboard.press("ArrowDown");
    assert.equal(await focused(), "1,1");
    await page.keyboard.press("Home");
    assert.equal(await focused(), "1,0");
    assert.equal(await page.locator("table.heat tbody button.cell[tabindex='0']").count(), 1);
    await adaCoachingCell.focus();
    const details = page.locator("aside.details");
    await details.getByText("ada@example.com — Coaching").waitFor();
    await details.locator(`a[data-statement="${adaCoaching[0].id}"]`).waitFor();
    await check("heatmap-proofs-desktop");

    step("drill-down to the person's proofs");
    await page.keyboard.press("Enter");
    await page.waitForURL(/#\/person\//);
    const target = page.locator(".skill.target");
    await target.waitFor();
    assert.match(await target.locator("h3").textContent(), /Coaching/);
    assert.equal(await page.evaluate(() => document.activeElement.closest(".skill.target") !== null), true);
    for (const s of adaCoaching) await target.locator(`a[data-statement="${s.id}"]`).waitFor();
    assert.equal(await page.locator(".skill svg.spark").count(), 2);
    await check("profile-desktop");

    step("a statement behind the score");
    await target.locator(`a[data-statement="${adaCoaching[0].id}"]`).click();
    await page.waitForURL(new RegExp(`#/statement/${adaCoaching[0].id}`));
    await page.locator("pre.json").waitFor();
    assert.match(await page.locator("pre.json").textContent(), new RegExp(adaCoaching[0].id));
    await page.locator("table.data").getByRole("link", { name: "Coaching" }).waitFor();
    await check("statement-desktop");

    step("the person against a role");
    await page.goBack();
    await page.locator(".skill.target").waitFor();
    await page.locator("#person-role").selectOption(SPECIALIST);
    await page.getByRole("button", { name: "Compare" }).click();
    const needs = page.locator("table.person-gaps tbody tr");
    await needs.first().waitFor();
    assert.equal(await needs.count(), 9);
    assert.match(await needs.filter({ hasText: "Coaching" }).textContent(), /gap/);
    await check("profile-role-desktop");

    step("expert finder with adjacent skills");
    await page.getByRole("link", { name: "Experts" }).click();
    await page.locator("#item-select").selectOption(COACHING);
    await page.getByRole("button", { name: "Find experts" }).click();
    const experts = page.locator("ol.expert-list > li");
    await experts.first().waitFor();
    assert.match(await experts.nth(0).textContent(), /dee@example\.com/);
    assert.match(await experts.nth(1).textContent(), /ada@example\.com/);
    await page.locator("table.adjacent").getByRole("link", { name: "Delivering training" }).waitFor();
    await check("experts-desktop");

    if (upskilling) {
      step("upskilling needs (the gateway serves them)");
      await page.getByRole("link", { name: "Upskilling" }).click();
      await page.locator("#upskilling-role").selectOption(SPECIALIST);
      await page.locator("#upskilling-team").selectOption(team.id);
      await page.getByRole("button", { name: "Show needs" }).click();
      await page.locator("table.upskilling tbody tr").first().waitFor();
      assert.ok((await page.locator("table.upskilling tbody tr").count()) > 0);
      await check("upskilling-desktop");
    } else {
      step("upskilling needs: not served by this gateway yet, skipped");
    }

    step("text contrast at least 4.5:1");
    await page.goto(`${BASE}/ui/#/team/${encodeURIComponent(team.id)}?role=${encodeURIComponent(SPECIALIST)}`);
    await page.locator("tfoot tr.role-gap").waitFor();
    const lowTeam = await lowContrast(page, "button, a, th, td, p, span, li, label, h1, h2, h3, caption");
    assert.deepEqual(lowTeam, []);

    step("a 375 px phone");
    await page.setViewportSize({ width: 375, height: 812 });
    await page.locator("table.heat").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await check("heatmap-phone");
    await page.goto(`${BASE}/ui/#/person/${encodeURIComponent(await adaCoachingCell.getAttribute("data-person"))}?item=${encodeURIComponent(COACHING)}`);
    await page.locator(".skill.target").waitFor();
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 0);
    await check("profile-phone");
    const phoneView = async (hash, ready, name) => {
      await page.goto(`${BASE}/ui/${hash}`);
      await page.locator(ready).first().waitFor();
      assert.ok((await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 0, `${name} is wider than the phone`);
      await check(name);
    };
    await phoneView(`#/experts/${encodeURIComponent(COACHING)}`, "ol.expert-list > li", "experts-phone");
    if (upskilling) {
      await phoneView(`#/upskilling?role=${encodeURIComponent(SPECIALIST)}&team=${encodeURIComponent(team.id)}`, "table.upskilling tbody tr", "upskilling-phone");
    }

    step("sign out forgets the credential");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.locator("#sign-in").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await check("sign-in-phone");

    step("sign in with a bearer token");
    const token = await fetch(`${BASE}/oauth2/token`, {
      method: "POST",
      headers: { Authorization: AUTH, "Content-Type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
      signal: AbortSignal.timeout(20000),
    }).then((r) => r.json());
    await page.getByLabel("Bearer token").check();
    await page.getByLabel("Access token").fill(token.access_token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#who-name").getByText("bearer token").waitFor();
    await page.getByRole("link", { name: "Team map" }).click();
    await page.locator("table.heat tbody button.cell").first().waitFor();
  } catch (e) {
    console.error(`failed at: ${current} (screenshot failure.png)`);
    await page.screenshot({ path: join(OUT, "failure.png"), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await context.close();
    rmSync(profileDir, { recursive: true, force: true });
  }
  assert.deepEqual(problems, [], "the page logged errors");
  console.log(`evidence page: all checks passed; screenshots in ${OUT}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
