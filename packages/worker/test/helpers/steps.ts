import { noopLogger } from "@tracehouse/schemas";
import { Registry } from "prom-client";
import type { StepContext } from "../../src/internal/steps/step.js";
import { WorkerMetrics } from "../../src/internal/WorkerMetrics.js";

/** A step context of its own: a fresh metrics registry, and the failures the steps report. */
export class TestContext implements StepContext {
  readonly registry = new Registry();
  readonly metrics = new WorkerMetrics(this.registry);
  readonly logger = noopLogger;
  readonly abort = new AbortController();
  readonly failures: unknown[] = [];

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get failed(): Error | null {
    const first = this.failures[0];
    return first === undefined ? null : (first as Error);
  }

  fail(error: unknown): void {
    this.failures.push(error);
  }

  /** The value of a counter or gauge for one label set (`name{labels}`), 0 when absent. */
  async metric(name: string, labels = ""): Promise<number> {
    const text = await this.registry.metrics();
    const line = text
      .split("\n")
      .find((entry) => entry.startsWith(labels === "" ? `${name} ` : `${name}{${labels}}`));
    return Number(line?.split(" ").pop() ?? 0);
  }
}
