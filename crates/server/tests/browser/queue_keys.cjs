// Drives Debian's Chromium (playwright-core) through the queue with the
// keyboard and in bulk: the responder signs in, presses ? for the
// shortcuts, / to search, types a word that is only in one report's
// description, moves to the case with j and opens it with Enter, then
// acknowledges it with Tab and Enter alone. Back in the queue, 50 new
// reports are ticked and acknowledged at once. The case page and the queue
// are checked at 1280 and 390 px; axe-core on each, CSP reports collected.
//
//   node queue_keys.cjs BASE_URL USERNAME PASSWORD SCREENSHOT_DIR
//
// Prints one JSON object: {pages, violations, csp, errors, opened, bulk}.
const { chromium } = require("playwright-core");
const { harness } = require("./support.cjs");

const [base, username, password, shots] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const h = harness(shots, "queue-");
  const { errors } = h.report;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  h.watch(page);
  async function both(name) {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width === 390 && wide > 392) errors.push(`${name} is ${wide}px wide at 390`);
      await h.check(page, `${name}-${width}`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  await page.goto(`${base}/login?next=/desk/cases`);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  if (!page.url().endsWith("/desk/cases")) errors.push(`after sign-in: ${page.url()}`);
  await both("queue");

  // ? shows the shortcuts; / goes to the search.
  await page.keyboard.press("?");
  if (await page.$eval("#shortcuts", (d) => d.hidden)) errors.push("? did not show the shortcuts");
  await page.keyboard.press("Escape");
  await page.keyboard.press("/");
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  if (focused !== "f-q") errors.push(`/ focused ${focused}`);
  await page.keyboard.type("wombat");
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  const heading = (await page.textContent("#list-h")) || "";
  if (!heading.includes("of 1")) errors.push(`search: ${heading}`);
  await page.keyboard.press("j");
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  h.report.opened = page.url().split("/").pop();
  await both("case");

  // Acknowledge with the keyboard alone: Tab to the button, Enter.
  let reached = false;
  for (let i = 0; i < 60 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => {
      const el = document.activeElement;
      const form = el && el.form;
      return !!(el && el.tagName === "BUTTON" && form &&
        form.querySelector("input[name=action][value=acknowledge]"));
    });
  }
  if (!reached) errors.push("the Acknowledge button is not reachable with Tab");
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  const state = (await page.textContent(".case-head dl")) || "";
  if (!/acknowledged/i.test(state)) errors.push(`after Enter: ${state.trim().slice(0, 200)}`);

  // Bulk: tick the 50 new reports on the first page and acknowledge them.
  await page.goto(`${base}/desk/cases?state=received&sort=age`);
  const boxes = await page.$$("table.queue input[type=checkbox]");
  for (const b of boxes.slice(0, 50)) await b.check();
  await page.selectOption("#b-action", "acknowledge");
  await Promise.all([page.waitForNavigation(), page.click("#bulk button[type=submit]")]);
  h.report.bulk = ((await page.textContent("[role=status]")) || "").trim();
  await h.check(page, "bulk-done");

  await browser.close();
  process.stdout.write(JSON.stringify(h.report));
})().catch((e) => {
  process.stdout.write(JSON.stringify({ pages: [], violations: [], csp: [], errors: [String(e && e.stack || e)] }));
  process.exit(0);
});
