import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { DEFAULT_PRICES, costOf } from "@tracehouse/clickhouse";
import type { QueryParams, Sink } from "@tracehouse/clickhouse";
import { createAgentTracer, createExecutionTracker } from "@tracehouse/producer";
import type { Browser, Page } from "playwright-core";
import { openPipeline } from "../../../test/src/harness/index.js";
import type { Pipeline } from "../../../test/src/harness/index.js";
import { startUiServer } from "../src/server/index.js";
import type { UiServer } from "../src/server/index.js";
import { duration, usd } from "../src/web/format.js";
import { ARTIFACTS, launchChromium } from "./support/browser.js";
import { makeTrace } from "./support/traces.js";
import type { MadeTrace } from "./support/traces.js";

const HOSTILE = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">" onmouseover="window.__pwned=1`;

describe("trace explorer in Chromium, on a real pipeline (broker, worker, embedded engine)", function () {
  this.timeout(180_000);
  let pipeline: Pipeline;
  let server: UiServer;
  let browser: Browser;
  let page: Page;
  let good: MadeTrace;
  let hostile: MadeTrace;

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    pipeline = await openPipeline({ name: "ui" });
    const producer = pipeline.createProducer({ clientId: "ui-test" });
    const tracker = createExecutionTracker(producer, { tracer: createAgentTracer({ producer }) });
    good = await makeTrace(tracker, `user-${randomUUID().slice(0, 8)}`);
    hostile = await makeTrace(tracker, `evil${HOSTILE}`, HOSTILE);
    await producer.flush();
    await pipeline.waitUntilQueryable(undefined, { timeoutMs: 60_000 });
    server = await startUiServer({ sink: pipeline.monitor });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.addInitScript(() => {
      (window as unknown as { __pwned?: number }).__pwned = undefined;
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await pipeline?.close();
  });

  it("finds a trace by user id from the search form, and keeps the filter in the URL", async () => {
    await page.goto(`${server.url}/traces`);
    await page.fill('input[name="user"]', good.userId);
    await page.click('button[type="submit"]');
    await page.waitForURL(/user=/);
    const rows = page.locator("table.traces tbody tr");
    await page.locator(`tr[data-trace="${good.traceId}"]`).waitFor();
    expect(await rows.count()).to.equal(1);
    expect(await rows.first().getAttribute("data-trace")).to.equal(good.traceId);
    expect(await rows.first().locator(".user").textContent()).to.equal(good.userId);
    await shot("traces");
    // the same URL opened afresh shows the same filter and rows
    const again = await browser.newPage();
    await again.goto(page.url());
    await again.locator("table.traces tbody tr").first().waitFor();
    expect(await again.inputValue('input[name="user"]')).to.equal(good.userId);
    expect(await again.locator("table.traces tbody tr").count()).to.equal(1);
    await again.close();
  });

  it("shows the sub-agent tree nested in the waterfall, with each execution's duration", async () => {
    await page.goto(`${server.url}/trace/${good.traceId}`);
    const executions = page.locator(".wf-row.execution");
    await executions.first().waitFor();
    const rows = await executions.evaluateAll((elements) =>
      elements.map((e) => ({
        id: e.getAttribute("data-id"),
        depth: Number(e.getAttribute("data-depth")),
        name: e.querySelector(".wf-name")?.textContent,
        duration: e.querySelector(".wf-duration")?.textContent,
      })),
    );
    expect(rows.map((row) => [row.id, row.depth])).to.deep.equal([
      [good.executionIds.planner, 0],
      [good.executionIds.researcher, 1],
      [good.executionIds.checker, 2],
    ]);
    expect(rows.map((row) => row.name)).to.deep.equal([
      "planner",
      "researcher · SUBAGENT",
      "fact-checker · SUBAGENT",
    ]);
    const tree = await pipeline.queries.getTrace(good.traceId);
    const planner = tree!.roots[0]!;
    const researcher = planner.children[0]!;
    const checker = researcher.children[0]!;
    const expected = [planner, researcher, checker].map((node) =>
      duration((node.endedAtUs! - node.startedAtUs!) / 1000),
    );
    expect(rows.map((row) => row.duration)).to.deep.equal(expected);
    // a parent's bar spans its children's
    const box = async (id: string) => (await page.locator(`.wf-row[data-id="${id}"] .wf-bar`).boundingBox())!;
    const [p, r, c] = await Promise.all([
      box(planner.executionId),
      box(researcher.executionId),
      box(checker.executionId),
    ]);
    expect(r.x).to.be.at.least(p.x - 1);
    expect(c.x + c.width).to.be.at.most(r.x + r.width + 1);
    // collapsing the researcher hides the fact-checker
    await page.locator(`.wf-row[data-id="${researcher.executionId}"] .toggle`).click();
    expect(await page.locator(`.wf-row[data-id="${checker.executionId}"]`).count()).to.equal(0);
    await page.locator(`.wf-row[data-id="${researcher.executionId}"] .toggle`).click();
    await shot("trace");
  });

  it("shows the failing sub-agent's error in the detail panel, and the selection survives a deep link", async () => {
    await page.goto(`${server.url}/trace/${good.traceId}`);
    await page.locator(`.wf-row[data-id="${good.executionIds.checker}"]`).click();
    await page.waitForURL(new RegExp(`sel=${good.executionIds.checker}`));
    const detail = page.locator(".detail");
    await detail.locator(".error-block").waitFor();
    expect(await detail.locator(".error-class").first().textContent()).to.equal("UnsupportedClaimError");
    expect(await detail.locator(".error-block .error-message").first().textContent()).to.equal(
      good.errorMessage,
    );
    await shot("trace-detail");
    const link = page.url();
    const fresh = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await fresh.goto(link);
    await fresh.locator(".detail .error-block").waitFor();
    expect(await fresh.locator(".detail").getAttribute("data-selected")).to.equal(good.executionIds.checker);
    expect(await fresh.locator(`.wf-row.selected`).getAttribute("data-id")).to.equal(
      good.executionIds.checker,
    );
    await fresh.close();
  });

  it("costs the trace as its tokens times the price table", async () => {
    await page.goto(`${server.url}/trace/${good.traceId}`);
    await page.locator(".trace-cost").waitFor();
    let expected = 0;
    for (const [model, u] of Object.entries(good.usage)) {
      const price = DEFAULT_PRICES.get(model)!;
      expected +=
        ((u.input - u.cached) * price.inputPerMillion +
          u.cached * price.cachedInputPerMillion +
          u.output * price.outputPerMillion) /
        1e6;
      expect(costOf(price, { input: u.input, output: u.output, cachedInput: u.cached })).to.be.closeTo(
        ((u.input - u.cached) * price.inputPerMillion +
          u.cached * price.cachedInputPerMillion +
          u.output * price.outputPerMillion) /
          1e6,
        1e-12,
      );
    }
    expect(await page.locator(".trace-cost").textContent()).to.equal(usd(expected));
    const response = await page.request.get(`${server.url}/api/traces/${good.traceId}`);
    const body = (await response.json()) as {
      cost: { costUsd: number; inputTokens: number; outputTokens: number };
    };
    expect(body.cost.costUsd).to.be.closeTo(expected, 1e-12);
    expect(body.cost.inputTokens).to.equal(2400);
    expect(body.cost.outputTokens).to.equal(440);
  });

  it("asks for the bearer token when one is set, on the API and the pages", async () => {
    const guarded = await startUiServer({
      sink: pipeline.monitor,
      auth: { kind: "bearer", token: "s3cret" },
    });
    try {
      expect((await fetch(`${guarded.url}/api/traces`)).status).to.equal(401);
      expect((await fetch(`${guarded.url}/traces`)).status).to.equal(401);
      const ok = await fetch(`${guarded.url}/api/traces/${good.traceId}`, {
        headers: { authorization: "Bearer s3cret" },
      });
      expect(ok.status).to.equal(200);
      expect(ok.headers.get("content-security-policy")).to.include("script-src 'self'");
      const bad = await fetch(`${guarded.url}/api/traces/not-an-id`, {
        headers: { authorization: "Bearer s3cret" },
      });
      expect(bad.status).to.equal(400);
    } finally {
      await guarded.close();
    }
  });

  it("preloads a trace page's data while its script loads: one request for it per page view", async () => {
    let lookups = 0;
    const monitor = pipeline.monitor;
    const counting: Sink = {
      kind: monitor.kind,
      database: monitor.database,
      concurrency: monitor.concurrency,
      insert: (table, rows, options) => monitor.insert(table, rows, options),
      command: (sql) => monitor.command(sql),
      close: () => monitor.close(),
      query<T>(sql: string, params?: QueryParams): Promise<T[]> {
        if (/trace_index WHERE trace_id = \{trace_id:String\}/.test(sql)) lookups += 1;
        return monitor.query<T>(sql, params);
      },
    };
    const own = await startUiServer({ sink: counting });
    const fresh = await browser.newPage();
    try {
      const response = await fresh.goto(`${own.url}/trace/${good.traceId}`);
      expect(response?.headers()["link"]).to.equal(
        `</api/traces/${good.traceId}>; rel=preload; as=fetch; crossorigin=anonymous`,
      );
      await fresh.locator(".wf-row.execution").first().waitFor();
      expect(lookups, "the page used the preloaded response").to.equal(1);
      expect((await fetch(`${own.url}/traces`)).headers.get("link")).to.equal(null);
    } finally {
      await fresh.close();
      await own.close();
    }
  });

  it("renders hostile strings in every field as text, on every page", async () => {
    const pages = [
      `/traces?user=${encodeURIComponent(hostile.userId)}`,
      `/trace/${hostile.traceId}?sel=${hostile.executionIds.checker}`,
      `/trace/${hostile.traceId}?sel=${hostile.executionIds.planner}`,
      "/agents",
      "/errors",
    ];
    for (const path of pages) {
      await page.goto(`${server.url}${path}`);
      await page.waitForFunction(() => !document.body.textContent?.includes("loading…"));
      await page.waitForTimeout(300);
      const text = (await page.locator("#app").textContent()) ?? "";
      expect(text, path).to.include("<script>window.__pwned=1</script>");
      const injected = await page.evaluate(() => ({
        pwned: (window as unknown as { __pwned?: number }).__pwned,
        scripts: document.querySelectorAll("#app script").length,
        images: document.querySelectorAll("#app img").length,
        handlers: [...document.querySelectorAll("#app *")].filter(
          (e) => e.hasAttribute("onerror") || e.hasAttribute("onmouseover"),
        ).length,
      }));
      expect(injected, path).to.deep.equal({ pwned: undefined, scripts: 0, images: 0, handlers: 0 });
    }
    await page.goto(`${server.url}/trace/${hostile.traceId}?sel=${hostile.executionIds.checker}`);
    await page.locator(".detail .error-block").waitFor();
    await shot("hostile");
    await page.goto(`${server.url}/agents`);
    await page.locator(".chart").first().waitFor();
    await shot("agents");
    await page.goto(`${server.url}/errors`);
    await page.locator("table.errors tbody tr").first().waitFor();
    await shot("errors");
  });
});
