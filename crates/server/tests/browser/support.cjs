// What every browser script shares: each page's console watched for
// Content-Security-Policy reports and script errors, and the axe-core check
// (serious and critical violations) with a full-page screenshot.
const fs = require("fs");
const path = require("path");

const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// `shots` is the screenshot directory, `prefix` starts each file's name.
// The script prints `report` (with its own fields added) as JSON at the end.
function harness(shots, prefix) {
  const report = { pages: [], violations: [], csp: [], errors: [] };
  function watch(page) {
    page.on("console", (m) => {
      const text = m.text();
      if (/Content Security Policy/i.test(text)) report.csp.push(text);
      else if (m.type() === "error" && !/Failed to load resource/.test(text)) report.errors.push(text);
    });
    page.on("pageerror", (e) => report.errors.push(`script error: ${e.message}`));
    page.on("dialog", (d) => d.accept());
  }
  async function check(page, name) {
    // axe runs through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      axe.run(document, { resultTypes: ["violations"] })
    );
    for (const v of result.violations) {
      if (v.impact === "serious" || v.impact === "critical") {
        report.violations.push({ page: name, id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.map((n) => n.html).slice(0, 3) });
      }
    }
    await page.screenshot({ path: path.join(shots, `${prefix}${name}.png`), fullPage: true });
    report.pages.push(name);
  }
  return { report, watch, check };
}

module.exports = { harness };
