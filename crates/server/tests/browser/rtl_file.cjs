// A file whose name hides its type behind a right-to-left override
// (`invoice<U+202E>fdp.html` reads as "invoicelmth.pdf"), on a case whose
// title carries one too, in Debian's Chromium: the case page at 1280 and
// 390 px (axe-clean) with no bidi control in its text; the file's shown
// name, the title and the name the download is saved under are reported.
//
//   node rtl_file.cjs BASE_URL USER PASSWORD REFERENCE SCREENSHOT_DIR
//
// Prints one JSON object: {pages, violations, csp, errors, shown, title, download}.
const { chromium } = require("playwright-core");
const { harness } = require("./support.cjs");

const [base, user, password, reference, shots] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const h = harness(shots, "rtl-");
  const { report, watch, check } = h;
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  watch(page);
  try {
    await page.goto(`${base}/login?next=/desk/cases/${reference}`);
    await page.fill("#username", user);
    await page.fill("#password", password);
    await Promise.all([page.waitForNavigation(), page.click("form button[type=submit]")]);
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await check(page, `case-${width}`);
    }
    const text = await page.evaluate(() => document.body.innerText);
    if (/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/.test(text)) report.errors.push("a bidi control reached the page's text");
    report.title = await page.$eval("h1", (h1) => h1.innerText);
    const link = page.locator("a[href*='/attachments/']").first();
    report.shown = await link.innerText();
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    report.download = download.suggestedFilename();
  } catch (e) {
    report.errors.push(String(e && e.stack ? e.stack : e));
  }
  await browser.close();
  console.log(JSON.stringify(report));
})();
