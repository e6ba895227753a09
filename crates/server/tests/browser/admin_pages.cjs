// Drives Debian's Chromium (playwright-core) through the admin's screens:
// the admin signs in through the form, opens the team page from the menu,
// adds a member with the form (a role must be chosen), reads the generated
// password shown once, signs that member in from a second browser with it,
// gives the member a new password, disables and enables them, and reads the
// sign-in attempts (the failed one included). The member then sets up a
// second factor (QR code, a typo, recovery codes) and signs in with a
// recovery code. The delivery log, webhooks, products, customers, vulnerability
// rules and the policy in force too. Every
// page runs axe-core and is checked at 1280 and 390 px (no sideways
// scrolling at 390); Content-Security-Policy reports are collected.
//
//   node admin_pages.cjs BASE_URL ADMIN PASSWORD SERVER_NOW_UNIX SCREENSHOT_DIR
//
// Prints one JSON object: {pages, violations, csp, errors, member}.
const crypto = require("crypto");
const { chromium } = require("playwright-core");

// RFC 6238 with SHA-1, 30-second steps, 6 digits: what an authenticator
// app computes from the secret it scanned.
function totp(base32, unixSeconds) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = crypto.createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, "0");
}
const { harness } = require("./support.cjs");

const [base, username, password, nowArg, shots] = process.argv.slice(2);
// The server's clock in the test (seconds since 1970), for the TOTP code.
const serverNow = Number(nowArg);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const h = harness(shots, "admin-");
  const { errors } = h.report;
  const { watch, check } = h;
  async function submit(page, selector) {
    await Promise.all([page.waitForNavigation(), page.click(selector)]);
  }
  async function signIn(page, user, pass) {
    await page.goto(`${base}/login?next=/desk`);
    await page.fill("#username", user);
    await page.fill("#password", pass);
    await submit(page, "form button[type=submit]");
    return page.url();
  }
  async function both(page, name) {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width === 390 && wide > 392) errors.push(`${name} is ${wide}px wide at 390`);
      await check(page, `${name}-${width}`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  const admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const desk = await admin.newPage();
  watch(desk);
  if (!(await signIn(desk, username, password)).endsWith("/desk")) errors.push(`admin sign-in: ${desk.url()}`);
  await submit(desk, "nav a[href='/desk/team']");
  await both(desk, "team");

  // Adding a member needs a chosen role; the browser's own check stops an empty one.
  await desk.fill("#member-username", "nora");
  const roleRequired = await desk.$eval("#member-role", (s) => s.required && s.value === "");
  if (!roleRequired) errors.push("the role select has a value before one is chosen");
  await desk.selectOption("#member-role", "responder");
  await submit(desk, "form[action='/desk/team'] button[type=submit]");
  const first = ((await desk.textContent("#new-password")) || "").trim();
  if (first.length < 12) errors.push(`no generated password shown: ${first}`);
  await both(desk, "team-added");

  // The member signs in elsewhere with it; one wrong try first, which the admin will see.
  const other = await browser.newContext({ viewport: { width: 390, height: 800 } });
  const member = await other.newPage();
  watch(member);
  await signIn(member, "nora", "not the password at all");
  if (!(await member.$("[role=alert]"))) errors.push("a wrong password shows no error");
  if (!(await signIn(member, "nora", first)).endsWith("/desk")) errors.push(`member sign-in: ${member.url()}`);

  // A new password: shown once, the old one stops working.
  await submit(desk, "button[aria-label='New password for nora']");
  const second = ((await desk.textContent("#new-password")) || "").trim();
  if (!second || second === first) errors.push("no new password");
  await member.context().clearCookies();
  await signIn(member, "nora", first);
  if (member.url().endsWith("/desk")) errors.push("the old password still works");

  // Disable, then enable.
  await submit(desk, "button[aria-label='Disable nora']");
  if (!((await desk.textContent("[role=status]")) || "").includes("nora is disabled")) errors.push("no notice after disabling");
  await check(desk, "team-disabled");
  if ((await signIn(member, "nora", second)).endsWith("/desk")) errors.push("a disabled member signed in");
  await submit(desk, "button[aria-label='Enable nora']");
  if (!(await signIn(member, "nora", second)).endsWith("/desk")) errors.push("the enabled member cannot sign in");

  // The member sets up a second factor: a QR code drawn by the server, a
  // typo that keeps the secret, ten recovery codes; one of them signs in.
  await member.goto(`${base}/desk/account#second-factor`);
  await Promise.all([member.waitForNavigation(), member.click("form[action='/desk/account/totp'] button")]);
  if (!(await member.$("figure.qr svg"))) errors.push("no QR code");
  await check(member, "totp-setup-390");
  const secret = ((await member.textContent("#totp-secret")) || "").trim();
  await member.fill("#totp-code", "000000");
  await Promise.all([member.waitForNavigation(), member.click("form[action='/desk/account/totp/confirm'] button")]);
  if (((await member.textContent("#totp-secret")) || "").trim() !== secret) errors.push("a typo lost the secret");
  await member.fill("#totp-code", totp(secret, serverNow));
  await Promise.all([member.waitForNavigation(), member.click("form[action='/desk/account/totp/confirm'] button")]);
  const codes = await member.$$eval("#recovery-codes code", (cs) => cs.map((c) => c.textContent));
  if (codes.length !== 10) errors.push(`recovery codes: ${codes.length}`);
  await check(member, "recovery-codes-390");
  await member.context().clearCookies();
  await member.goto(`${base}/login?next=/desk`);
  await member.fill("#username", "nora");
  await member.fill("#password", second);
  await member.fill("#code", codes[0] || "");
  await Promise.all([member.waitForNavigation(), member.click("form button[type=submit]")]);
  if (!member.url().endsWith("/desk")) errors.push(`sign-in with a recovery code: ${member.url()}`);

  // The attempts, the failed ones marked.
  await desk.goto(`${base}/desk/team#sign-ins`);
  const attempts = await desk.$$eval("#sign-ins ~ div table tbody tr", (rows) => rows.map((r) => r.textContent));
  if (!attempts.some((t) => t.includes("nora") && t.includes("failed"))) errors.push(`attempts: ${attempts.join(" | ")}`);
  if (!attempts.some((t) => t.includes("nora") && t.includes("signed in"))) errors.push("no successful attempt listed");

  await submit(desk, "nav a[href='/desk/deliveries']");
  await both(desk, "deliveries");

  // Webhooks: subscribe one, send it a test message.
  await submit(desk, "nav a[href='/desk/webhooks']");
  await desk.fill("#wh-name", "Team chat");
  await desk.fill("#wh-url", "https://hooks.example.org/embargo");
  await desk.selectOption("#wh-format", "slack");
  await submit(desk, "form[action='/desk/webhooks'] button[type=submit]");
  if (!((await desk.textContent("#webhook-secret")) || "").startsWith("whsec_")) errors.push("no webhook secret shown");
  await submit(desk, "button[aria-label='Send test to Team chat']");
  if (!(await desk.content()).includes("webhook.test")) errors.push("the test message is not listed");
  await both(desk, "webhooks");

  // Products: one added from the form (a refused one keeps what was typed).
  await submit(desk, "nav a[href='/desk/products']");
  await desk.fill("#p-id", "Not An Id");
  await desk.fill("#p-name", "Dock Certs");
  await desk.fill("#p-owner", "team-dock");
  await desk.selectOption("#p-deployment", "both");
  await desk.selectOption("#p-exposure", "internal");
  await desk.evaluate(() => document.querySelector("#p-id").removeAttribute("pattern"));
  await submit(desk, "form[action='/desk/products'] button[type=submit]");
  if ((await desk.inputValue("#p-name")) !== "Dock Certs") errors.push("the refused product form lost its name");
  await desk.fill("#p-id", "dock-certs");
  await submit(desk, "form[action='/desk/products'] button[type=submit]");
  if (!(await desk.content()).includes("dock-certs")) errors.push("the product is not listed");
  await both(desk, "products");

  // Customers: one who runs nothing yet.
  await submit(desk, "nav a[href='/desk/customers']");
  await desk.fill("#c-id", "acme");
  await desk.fill("#c-name", "Acme");
  await desk.fill("#c-contact", "mailto:security@acme.example");
  await submit(desk, "form[action='/desk/customers'] button[type=submit]");
  if (!(await desk.content()).includes("Acme")) errors.push("the customer is not listed");
  await both(desk, "customers");

  // Rules: accept a package's risk until a date.
  await submit(desk, "nav a[href='/desk/rules']");
  await desk.fill("#r-name", "Accept left-pad");
  await desk.fill("#r-package", "pkg:npm/left-pad");
  await desk.selectOption("#r-action", "risk_accepted");
  await desk.fill("#r-until", "2027-06-30");
  await submit(desk, "form[action='/desk/rules'] button[type=submit]");
  if (!(await desk.content()).includes("Accept left-pad")) errors.push("the rule is not listed");
  await both(desk, "rules");

  // The policy in force, read-only.
  await submit(desk, "nav a[href='/desk/policy']");
  await both(desk, "policy");

  await browser.close();
  h.report.member = "nora";
  console.log(JSON.stringify(h.report));
})().catch((e) => {
  console.log(JSON.stringify({ pages: [], violations: [], csp: [], errors: [String(e && e.stack || e)] }));
});
