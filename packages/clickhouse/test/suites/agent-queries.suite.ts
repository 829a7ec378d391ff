// Per-agent read-outs over a window: agentStats, agentHourlyStats, agentCostOverview,
// slowestExecutions and errorSummary.
import { expect } from "chai";
import type { TraceQueries } from "../../src/index.js";
import type { SinkTarget } from "../support/engine.js";
import { EXEC, HOUR, OLD_OFFSET, SECOND, T0, TRACE_A, at } from "../support/fixture.js";
import { withFixtureDatabase } from "../support/fixture-database.js";

export function describeAgentQueries(target: SinkTarget): void {
  describe(`${target.label} agent queries`, () => {
    let queries: TraceQueries;
    withFixtureDatabase(target, "agent_queries", (fixture) => ({ queries } = fixture));

    it("agentStats: executions, failures, latency and TTFT quantiles, phase sums per agent", async () => {
      const stats = await queries.agentStats({ from: at(T0), to: at(T0 + 2 * HOUR) });
      expect(stats.map((row) => row.agentName)).to.deep.equal(["coder", "planner", "researcher"]);
      const planner = stats.find((row) => row.agentName === "planner");
      expect(planner).to.deep.include({ started: 5, finished: 5, failures: 0 });
      expect(planner?.latencyMs).to.deep.equal({ samples: 5, p50: 300, p95: 10000, p99: 10000 });
      expect(planner?.timeToFirstTokenMs).to.deep.equal({ samples: 5, p50: 120, p95: 200, p99: 200 });
      expect(planner?.phases.totalMs).to.equal(11000);
      expect(planner?.phases.llmProcessingMs).to.equal(800);
      expect(planner?.phases.promptTokens).to.equal(1000);
      const researcher = stats.find((row) => row.agentName === "researcher");
      expect(researcher).to.deep.include({ started: 1, finished: 1, failures: 1 });
      expect(researcher?.latencyMs).to.deep.equal({ samples: 1, p50: 3000, p95: 3000, p99: 3000 });
      expect(researcher?.phases.toolExecutionMs).to.equal(1000);
      const coder = stats.find((row) => row.agentName === "coder");
      expect(coder?.timeToFirstTokenMs).to.deep.equal({ samples: 0, p50: null, p95: null, p99: null });

      const onlyOld = await queries.agentStats({
        from: at(T0 - OLD_OFFSET - HOUR),
        to: at(T0),
        agent: "planner",
      });
      expect(onlyOld).to.have.length(1);
      expect(onlyOld[0]).to.deep.include({ started: 1, finished: 1, failures: 1 });
      expect(
        await queries.agentStats({ from: at(T0), to: at(T0 + 2 * HOUR), agent: "nobody" }),
      ).to.deep.equal([]);
    });

    it("agentHourlyStats: one row per agent and hour", async () => {
      const hourly = await queries.agentHourlyStats({
        from: at(T0),
        to: at(T0 + 2 * HOUR),
        agent: "planner",
      });
      expect(hourly.map((row) => [row.hour.toISOString(), row.started, row.latencyMs.p50])).to.deep.equal([
        [at(T0).toISOString(), 1, 10000],
        [at(T0 + HOUR).toISOString(), 4, 300],
      ]);
    });

    it("agentCostOverview: the figures of agentStats and agentHourlyStats from one read", async () => {
      const windows = [
        { from: at(T0), to: at(T0 + 2 * HOUR) },
        { from: at(T0 + 30 * 60 * SECOND), to: at(T0 + HOUR + 90 * SECOND) },
        { from: at(T0 + 30 * 60 * SECOND), to: at(T0 + 30 * 60 * SECOND) },
        { from: at(T0 - OLD_OFFSET - HOUR), to: at(T0 + 3 * HOUR), agent: "planner" },
        { from: at(T0), to: at(T0 + 2 * HOUR), agent: "nobody" },
      ];
      const withoutCost = <T extends { cost: unknown }>({ cost: _cost, ...rest }: T) => rest;
      let figures = 0;
      for (const window of windows) {
        const overview = await queries.agentCostOverview(window);
        const [agents, hourly] = [await queries.agentStats(window), await queries.agentHourlyStats(window)];
        expect(overview.agents.map(withoutCost), JSON.stringify(window)).to.deep.equal(agents);
        expect(overview.hourly.map(withoutCost), JSON.stringify(window)).to.deep.equal(hourly);
        figures += agents.length + hourly.length;
      }
      expect(figures, "the windows hold facts").to.be.greaterThan(10);
    });

    it("slowestExecutions: longest first, limited, inside the window", async () => {
      const slowest = await queries.slowestExecutions({ from: at(T0), to: at(T0 + 2 * HOUR), limit: 3 });
      expect(slowest.map((row) => [row.executionId, row.durationMs, row.lifecycle])).to.deep.equal([
        [EXEC.planner, 10000, "COMPLETED"],
        [EXEC.researcher, 3000, "FAILED"],
        [EXEC.coder, 2000, "COMPLETED"],
      ]);
      expect(slowest[0]).to.deep.include({
        traceId: TRACE_A,
        agentName: "planner",
        endedAtUs: T0 + 10 * SECOND,
      });
    });

    it("errorSummary: errors per agent and class, most frequent first", async () => {
      const summary = await queries.errorSummary({ from: at(T0), to: at(T0 + 2 * HOUR) });
      expect(summary).to.deep.equal([
        {
          agentName: "researcher",
          errorClass: "BackendUnavailable",
          severity: "ERROR",
          errors: 2,
          retriableErrors: 2,
          traces: 1,
          executions: 1,
          firstSeenUs: T0 + 4 * SECOND,
          lastSeenUs: T0 + 4.5 * SECOND,
          sampleMessage: "search backend still down",
        },
        {
          agentName: "planner",
          errorClass: "RateLimitWarning",
          severity: "WARNING",
          errors: 1,
          retriableErrors: 0,
          traces: 1,
          executions: 1,
          firstSeenUs: T0 + 9 * SECOND,
          lastSeenUs: T0 + 9 * SECOND,
          sampleMessage: "slow down",
        },
      ]);
    });
  });
}
