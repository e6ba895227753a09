// Drives Debian's Chromium (playwright-core) through the report form's bad
// moments, at 1280 and 390 px: the form's cookie expires while the reporter
// writes (the text comes back, and sends with the new token); the receipt
// is reloaded (no second report); the hourly limit is reached (the text
// comes back with the other ways to report). axe-core on every page, CSP
// reports collected.
//
//   node report_kept.cjs BASE_URL SCREENSHOT_DIR
//
// Prints one JSON object: {pages, violations, csp, errors, reference}.
const { chromium } = require("playwright-core");
const { harness } = require("./support.cjs");

const [base, shots] = process.argv.slice(2);
const LONG = "Step one: open the export.\nStep two: read another tenant's tokens.\n".repeat(20);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const h = harness(shots, "kept-");
  const { errors } = h.report;
  for (const width of [1280, 390]) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    h.watch(page);
    const submit = () => Promise.all([page.waitForNavigation(), page.click("form button[type=submit]")]);
    async function fill(title) {
      await page.fill("#title", title);
      await page.fill("#product", "Dock Certs");
      await page.fill("#summary", "Tokens leak across tenants");
      await page.fill("#description", LONG);
      await page.fill("#steps_to_reproduce", "1. export as tenant A");
      await page.fill("#impact", "tenant B's tokens");
      await page.fill("#contact", "finder@example.org");
    }
    async function kept(what) {
      const description = await page.inputValue("#description");
      if (description.trim() !== LONG.trim()) errors.push(`${width}: ${what}: the description was lost`);
    }

    await page.goto(`${base}/report`);
    await fill(`Cross-tenant export at ${width}`);
    // The form's cookie is gone (it expired while the reporter wrote).
    await context.clearCookies();
    await submit();
    if (!((await page.textContent("[role=alert]")) || "").includes("The form had expired")) {
      errors.push(`${width}: no word of the expired form`);
    }
    await kept("expired form");
    await h.check(page, `expired-${width}`);
    await submit();
    if (!page.url().endsWith("/report/receipt")) errors.push(`${width}: not at the receipt: ${page.url()}`);
    const reference = ((await page.textContent("main strong")) || "").trim();
    if (!/^EMB-\d{4}-\d{4}$/.test(reference)) errors.push(`${width}: receipt: ${reference}`);
    await h.check(page, `receipt-${width}`);
    // Reloading the receipt shows it again and sends nothing.
    await page.reload();
    const again = ((await page.textContent("main strong")) || "").trim();
    if (again !== reference) errors.push(`${width}: reloaded receipt says ${again}`);
    h.report[`reference_${width}`] = reference;

    // Over the limit (the server allows two reports an hour from one address).
    if (width === 390) {
      await page.goto(`${base}/report`);
      await fill("One too many");
      await submit();
      const alert = (await page.textContent("[role=alert]")) || "";
      if (!alert.includes("Too many reports")) errors.push(`429: ${alert}`);
      if (!(await page.content()).includes("security@opensecops.org")) errors.push("429: no other channel");
      await kept("429");
      await h.check(page, "too-many-390");
    }
    await context.close();
  }
  await browser.close();
  process.stdout.write(JSON.stringify(h.report));
})().catch((e) => {
  process.stdout.write(JSON.stringify({ pages: [], violations: [], csp: [], errors: [String(e && e.stack || e)] }));
  process.exit(0);
});
