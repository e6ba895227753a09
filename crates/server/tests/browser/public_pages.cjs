// Drives Debian's Chromium (playwright-core, no downloaded browser) over the
// public pages of a running embargo: submits a report through the form,
// opens the reporter's private page and replies, reads the policy, the
// security center and an advisory, and scores a vector with the calculator.
// On every page it runs axe-core and collects Content-Security-Policy
// violations the browser reports; it saves a screenshot of each page.
//
// It does the same in dark mode, follows the policy page to the form, and
// checks the HTML 404 page.
//
//   node public_pages.cjs BASE_URL ADVISORY_ID SCREENSHOT_DIR
//
// Prints one JSON object: {pages, violations, csp, errors}.
const { chromium } = require("playwright-core");
const { harness } = require("./support.cjs");

const [base, advisoryId, shots] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
  const h = harness(shots, "");
  const { errors } = h.report;
  h.watch(page);
  const check = (name) => h.check(page, name);

  // The public report form, filled and sent as a person would.
  await page.goto(`${base}/report`);
  await check("report-form");
  for (const field of await page.$$("form textarea, form input:not([type=hidden]):not([type=file])")) {
    const id = await field.getAttribute("id");
    if (id === "website") continue; // the honeypot, hidden from people
    if (id === "pgp_key") continue; // optional, and a key is not free text
    const value = id === "contact" ? "browser@example.org"
      : id === "disclosure_deadline" ? ""
      : id === "name" ? "Browser Tester"
      : `Browser test: ${id}`;
    if (value) await field.fill(value);
  }
  await Promise.all([page.waitForNavigation(), page.click("form button[type=submit]")]);
  await check("report-receipt");
  const portal = await page.getAttribute("a[href^='/portal/']", "href");
  if (!portal) throw new Error("the receipt has no private link");

  // The reporter's private page: reply in the thread.
  await page.goto(`${base}${portal}`);
  await check("portal");
  await page.fill("#text", "A reply from the browser.");
  await Promise.all([page.waitForNavigation(), page.click("form[action$='/reply'] button[type=submit]")]);
  const replied = await page.content();
  if (!replied.includes("A reply from the browser.")) errors.push("the reply is not in the thread");
  await check("portal-after-reply");

  await page.goto(`${base}/policy`);
  await check("policy");
  await page.goto(`${base}/advisories`);
  await check("advisories");
  await page.goto(`${base}/advisories/${advisoryId}`);
  await check("advisory");

  // The calculator, with the form (no JavaScript needed).
  await page.goto(`${base}/cvss`);
  await check("cvss-form");
  await page.selectOption("#m-AV", "N");
  await page.selectOption("#m-C", "H");
  await page.selectOption("#m-I", "H");
  await page.selectOption("#m-A", "H");
  await Promise.all([page.waitForNavigation(), page.click("form[action='/cvss'] fieldset ~ button")]);
  const scored = await page.textContent("[role=status]");
  if (!/9\.8/.test(scored || "")) errors.push(`the calculator said: ${scored}`);
  await check("cvss-scored");

  // Dark mode, as the system asks for it: the same pages, axe-clean.
  await page.emulateMedia({ colorScheme: "dark" });
  for (const [path, name] of [["/policy", "dark-policy"], ["/report", "dark-report-form"], [`/advisories/${advisoryId}`, "dark-advisory"]]) {
    await page.goto(`${base}${path}`);
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    if (background !== "rgb(21, 24, 28)") errors.push(`${name}: background ${background} in dark mode`);
    await check(name);
  }
  await page.emulateMedia({ colorScheme: "light" });
  // The policy page leads to the form.
  await page.goto(`${base}/policy`);
  await Promise.all([page.waitForNavigation(), page.click("a[href='/report']")]);
  if (!page.url().endsWith("/report")) errors.push(`the policy's link led to ${page.url()}`);
  // A browser meets a missing page as a page.
  const missing = await page.goto(`${base}/no/such/page`);
  if (missing.status() !== 404) errors.push(`missing page: ${missing.status()}`);
  await check("not-found");

  await browser.close();
  process.stdout.write(JSON.stringify(h.report));
})().catch((e) => {
  process.stdout.write(JSON.stringify({ pages: [], violations: [], csp: [], errors: [String(e && e.stack || e)] }));
  process.exit(0);
});
