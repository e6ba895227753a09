// Drives Debian's Chromium (playwright-core) through a case from report to
// advisory, as the team and the reporter would: the responder signs in with
// the keyboard; a reporter (a separate browser context, no shared cookies)
// sends a report through the public form; the responder acknowledges and
// triages it, replies, and the reporter reads the reply through their
// private link; the responder scores it with the calculator (its live score
// comes from embargo.js), accepts it, records the fix, drafts and publishes
// the advisory, and finds it on /advisories. Every page runs axe-core; the
// browser's Content-Security-Policy reports are collected; the main pages
// are also checked at 360 px wide for sideways scrolling. Screenshots go to
// SCREENSHOT_DIR.
//
//   node team_pages.cjs BASE_URL USERNAME PASSWORD SCREENSHOT_DIR
//
// Prints one JSON object: {pages, violations, csp, errors, reference, advisory}.
const { chromium } = require("playwright-core");
const { harness } = require("./support.cjs");

const [base, username, password, shots] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const h = harness(shots, "team-");
  const { errors, pages } = h.report;
  const { watch, check } = h;
  async function submit(page, selector) {
    await Promise.all([page.waitForNavigation(), page.click(selector)]);
  }
  async function act(page, action) {
    await submit(page, `form[action$='/act']:has(input[name=action][value=${action}]) button[type=submit]`);
    const alert = await page.$("[role=alert]");
    if (alert) errors.push(`${action}: ${await alert.textContent()}`);
  }

  const team = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const desk = await team.newPage();
  watch(desk);

  // Not signed in: the dashboard leads to the sign-in form. Sign in with the keyboard.
  await desk.goto(`${base}/desk`);
  if (!desk.url().includes("/login?next=")) errors.push(`not sent to sign in: ${desk.url()}`);
  await check(desk, "login");
  let reached = false;
  for (let i = 0; i < 8 && !reached; i++) {
    await desk.keyboard.press("Tab");
    reached = await desk.evaluate(() => document.activeElement && document.activeElement.id === "username");
  }
  if (!reached) errors.push("the username field is not reachable with Tab");
  await desk.keyboard.type(username);
  await desk.keyboard.press("Tab");
  await desk.keyboard.type(password);
  await Promise.all([desk.waitForNavigation(), desk.keyboard.press("Enter")]);
  if (!desk.url().endsWith("/desk")) errors.push(`after sign-in: ${desk.url()}`);
  await check(desk, "dashboard-empty");

  // A reporter, elsewhere, finds the form from the front page and sends a report.
  const outside = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const reporter = await outside.newPage();
  watch(reporter);
  await reporter.goto(`${base}/`);
  await check(reporter, "home");
  await submit(reporter, "a[href='/report']");
  await reporter.fill("#title", "Session fixation in the login page");
  await reporter.fill("#product", "Dock Certs");
  await reporter.fill("#summary", "The session id survives login.");
  await reporter.fill("#description", "Set a session cookie before login; it stays valid after.");
  await reporter.fill("#contact", "finder@example.org");
  await reporter.fill("#name", "Finder");
  await submit(reporter, "form button[type=submit]");
  const reference = ((await reporter.textContent("main strong")) || "").trim();
  const portal = await reporter.getAttribute("a[href^='/portal/']", "href");
  if (!/^EMB-\d{4}-\d{4}$/.test(reference) || !portal) errors.push(`receipt: ${reference} ${portal}`);

  // The team sees it on the dashboard and opens it from the queue.
  await desk.goto(`${base}/desk`);
  if (!(await desk.content()).includes(reference)) errors.push("the new report is not on the dashboard");
  await check(desk, "dashboard");
  await desk.goto(`${base}/desk/cases`);
  await check(desk, "cases");
  await submit(desk, `a[href='/desk/cases/${reference}']`);
  await check(desk, "case-new");

  await act(desk, "acknowledge");
  await act(desk, "start_triage");
  await desk.fill("#reply-text", "Thank you: we reproduced the session fixation.");
  await act(desk, "message_reporter");

  // The reporter reads the reply through the private link.
  await reporter.goto(`${base}${portal}`);
  if (!(await reporter.content()).includes("we reproduced the session fixation")) {
    errors.push("the reporter does not see the reply");
  }
  await check(reporter, "reporter-view");

  // The calculator scores live as metrics are chosen, then sets the severity.
  for (const [metric, value] of [["AV", "N"], ["AC", "L"], ["PR", "N"], ["UI", "N"], ["S", "U"], ["C", "H"], ["I", "H"], ["A", "N"]]) {
    await desk.selectOption(`#m-${metric}`, value);
  }
  try {
    await desk.waitForFunction(
      () => /score 9\.1/.test(document.querySelector("output[data-cvss-result]").textContent),
      null, { timeout: 5000 });
  } catch (e) {
    errors.push(`no live score: ${await desk.textContent("output[data-cvss-result]")}`);
  }
  await check(desk, "case-calculator");
  await submit(desk, "form[action$='/cvss'] button[type=submit]");
  if (!(await desk.content()).includes("Severity set to critical")) errors.push("the severity was not set");

  await act(desk, "accept");
  await act(desk, "start_fix");
  await desk.click("details:has(input[value=fix_available]) summary");
  await act(desk, "fix_available");

  // The advisory: drafted from the case, then published.
  await desk.fill("#adv-fixed", "2.4.1");
  await desk.fill("#adv-cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N");
  await desk.selectOption("#adv-cwe", "CWE-384");
  await desk.fill("#adv-description", "An attacker who sets a victim's session id before login can use the session after it.");
  await submit(desk, "form[action$='/advisory'] button[type=submit]");
  const advisory = await desk.inputValue("#adv-id");
  await submit(desk, "form[action$='/advisory/publish'] button[type=submit]");
  const published = await desk.content();
  if (!published.includes(`/advisories/${advisory}`)) errors.push("no link to the published advisory");
  await check(desk, "case-published");

  // It is public now.
  await reporter.goto(`${base}/advisories`);
  if (!(await reporter.content()).includes(advisory)) errors.push(`${advisory} is not on /advisories`);
  await check(reporter, "advisories");
  await reporter.goto(`${base}/advisories/${advisory}`);
  await check(reporter, "advisory");

  // A finding's analysis, recorded through its form.
  await desk.goto(`${base}/desk/findings`);
  await desk.click("td details summary");
  await desk.selectOption("select[name=state]", "affected");
  await submit(desk, "form[action$='/analysis'] button[type=submit]");
  if (!(await desk.content()).includes("analysis recorded")) errors.push("the analysis was not recorded");
  // A finding escalated to a case from its row.
  await submit(desk, "form[action$='/escalate'] button[type=submit]");
  if (!/\/desk\/cases\/EMB-/.test(desk.url()) || !(await desk.content()).includes("sqli#f1")) {
    errors.push(`escalation did not open the case: ${desk.url()}`);
  }
  await check(desk, "case-from-finding");

  // A release's lockfile uploaded from the products page, matched at once.
  await desk.goto(`${base}/desk/products`);
  await desk.click("details:has(input[name=version]) summary");
  await desk.fill("input[name=version]", "2.5.0");
  await desk.setInputFiles("input[type=file][name=file]", {
    name: "package-lock.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify({ name: "web", lockfileVersion: 3, packages: {
      "": { name: "web" }, "node_modules/left-pad": { version: "1.3.0" }, "node_modules/ms": { version: "2.1.3" } } })),
  });
  await submit(desk, "form[action$='/upload'] button[type=submit]");
  const uploaded = (await desk.textContent("[role=status]")) || "";
  if (!uploaded.includes("2.5.0: 2 components")) errors.push(`upload: ${uploaded}`);
  await check(desk, "products-uploaded");

  for (const [name, url] of [["findings", "/desk/findings"], ["products", "/desk/products"],
    ["charts", "/desk/charts"], ["account", "/desk/account"], ["cases-all", "/desk/cases?show=all"]]) {
    await desk.goto(`${base}${url}`);
    await check(desk, name);
  }

  // Readable at 360 px: no page scrolls sideways.
  const narrow = await team.newPage();
  watch(narrow);
  await narrow.setViewportSize({ width: 360, height: 740 });
  for (const [name, url] of [["dashboard", "/desk"], ["cases", "/desk/cases"],
    ["case", `/desk/cases/${reference}`], ["charts", "/desk/charts"], ["account", "/desk/account"]]) {
    await narrow.goto(`${base}${url}`);
    const width = await narrow.evaluate(() => document.documentElement.scrollWidth);
    if (width > 362) errors.push(`${url} is ${width}px wide at 360`);
    await check(narrow, `${name}-360`);
  }

  await browser.close();
  process.stdout.write(JSON.stringify({ ...h.report, reference, advisory }));
})().catch((e) => {
  process.stdout.write(JSON.stringify({ pages: [], violations: [], csp: [], errors: [String(e && e.stack || e)] }));
  process.exit(0);
});
