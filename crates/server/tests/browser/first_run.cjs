// The first hour in Debian's Chromium (playwright-core), against an
// `embargo serve` started by the test: the admin signs in with the password
// the first run printed and reads the dashboard's setup checklist (at 1280
// and 390 px). In the `email` phase (the server restarted with `[smtp]`
// configured) the admin sends a test email from the checklist and reloads
// until the checklist says email delivery is tested.
//
//   node first_run.cjs BASE_URL PASSWORD PHASE SCREENSHOT_DIR
//
// PHASE is `setup` or `email`. Prints one JSON object:
// {pages, violations, csp, errors, checklist: [{text, done}], notice}.
const { chromium } = require("playwright-core");
const { harness } = require("./support.cjs");

const [base, password, phase, shots] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const h = harness(shots, `first-run-${phase}-`);
  const { report, watch, check } = h;
  const page = await browser.newPage();
  watch(page);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  const checklist = () =>
    page.$$eval("#setup .checklist li", (items) =>
      items.map((li) => ({ text: li.innerText.trim(), done: li.classList.contains("met") }))
    );
  try {
    await page.goto(`${base}/login?next=/desk`);
    await page.fill("#username", "admin");
    await page.fill("#password", password);
    await submit("form button[type=submit]");
    if (!page.url().endsWith("/desk")) report.errors.push(`signed in to ${page.url()}`);
    if (phase === "setup") {
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 900 });
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width === 390 && wide > 392) report.errors.push(`the dashboard is ${wide}px wide at 390`);
        await check(page, `dashboard-${width}`);
      }
      report.checklist = await checklist();
    } else {
      await page.fill("#test-to", "admin@example.org");
      await submit("#setup-email button[type=submit]");
      report.notice = await page.$eval("main", (m) => m.innerText).catch(() => "");
      await check(page, "test-sent");
      // The message goes through the outbox: reload until it is sent.
      let items = [];
      for (let i = 0; i < 60; i += 1) {
        await page.goto(`${base}/desk`);
        items = await checklist();
        const email = items.find((it) => /Email delivery/.test(it.text));
        if (email && email.done) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      await check(page, "email-tested");
      report.checklist = items;
    }
  } catch (e) {
    report.errors.push(String(e && e.stack ? e.stack : e));
  }
  await browser.close();
  console.log(JSON.stringify(report));
})();
