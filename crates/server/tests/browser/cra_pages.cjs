// The Cyber Resilience Act's desk in Debian's Chromium (playwright-core): a
// responder signs in, marks a case actively exploited from its page, finds
// it in the dashboard's "Actively exploited" lane with its clocks in hours
// and minutes, opens the early warning's pack, fills what the Act asks and
// marks it submitted with the platform's reference. Every page runs
// axe-core; Content-Security-Policy reports are collected. Screenshots go to
// SCREENSHOT_DIR.
//
//   node cra_pages.cjs BASE_URL USERNAME PASSWORD REFERENCE SCREENSHOT_DIR
//
// Prints one JSON object: {pages, violations, csp, errors}.
const { chromium } = require("playwright-core");
const { harness } = require("./support.cjs");

const [base, username, password, reference, shots] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const h = harness(shots, "cra-");
  const { errors } = h.report;
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  h.watch(page);
  const check = (name) => h.check(page, name);
  async function submit(selector) {
    await Promise.all([page.waitForNavigation(), page.click(selector)]);
    const alert = await page.$("[role=alert]");
    if (alert) errors.push(`${selector}: ${await alert.textContent()}`);
  }

  try {
    await page.goto(`${base}/login`);
    await page.fill("#username", username);
    await page.fill("#password", password);
    await submit("form button[type=submit]");

    // Mark the case actively exploited from its page.
    await page.goto(`${base}/desk/cases/${reference}`);
    await page.click("#mark-exploited summary");
    await page.selectOption("#x-source", "threat_intelligence");
    await page.fill("#x-evidence", "CERT bulletin: exploited against public instances");
    await submit("#mark-exploited button[type=submit]");
    if (!(await page.content()).includes("Active exploitation confirmed")) {
      errors.push("no confirmation on the case page");
    }
    await check("case");

    // The dashboard's lane shows it, its clocks in hours and minutes.
    await page.goto(`${base}/desk`);
    const lane = (await page.textContent("#exploited + p + div")) || "";
    if (!lane.includes(reference)) errors.push(`the lane lacks ${reference}: ${lane}`);
    if (!/\d+ h \d\d min left/.test(lane)) errors.push(`no hours and minutes in the lane: ${lane}`);
    await check("dashboard");

    // The early warning's pack, one click away; submitted with its reference.
    await submit(`a[href='/desk/cases/${reference}/cra/early_warning']`);
    await check("pack");
    await page.fill("#p-states", "FR, DE");
    await page.fill("#p-ref", "SRP-2026-0007");
    await submit("button[name=intent][value=submit]");
    const text = (await page.textContent("main")) || "";
    if (!text.includes("marked submitted")) errors.push(`not submitted: ${text.slice(0, 400)}`);
    if (!text.includes("SRP-2026-0007")) errors.push("the platform reference is not shown");
    await check("pack-submitted");
  } catch (e) {
    errors.push(`${e.message}`);
  }
  await browser.close();
  console.log(JSON.stringify(h.report));
})();
