import { setTimeout as delay } from "node:timers/promises";
import { TraceContext } from "@tracehouse/context";
import { CACHED_INPUT_ATTRIBUTE } from "@tracehouse/clickhouse";
import type { ExecutionTracker } from "@tracehouse/producer";
import { TimingPhase } from "@tracehouse/producer";
import { ErrorSeverity } from "@tracehouse/schemas";

export class UnsupportedClaimError extends Error {
  override readonly name = "UnsupportedClaimError";
}

export interface MadeTrace {
  readonly traceId: string;
  readonly userId: string;
  readonly executionIds: { readonly planner: string; readonly researcher: string; readonly checker: string };
  /** Tokens sent per model: input, cached input, output. */
  readonly usage: Readonly<Record<string, { input: number; cached: number; output: number }>>;
  readonly errorMessage: string;
}

async function llm(
  execution: ReturnType<ExecutionTracker["startExecution"]>,
  model: string,
  input: number,
  output: number,
  cached: number,
): Promise<void> {
  const call = execution.startLlmCall(model);
  await delay(15);
  call.firstToken();
  await delay(20);
  call.end({
    status: "ok",
    usage: { promptTokens: input, completionTokens: output },
    attributes: { [CACHED_INPUT_ATTRIBUTE]: String(cached) },
  });
}

/**
 * planner → researcher (sub-agent) → fact-checker (sub-agent that fails); each calls one model.
 * `text` goes into every name and message, so hostile strings reach every field.
 */
export async function makeTrace(tracker: ExecutionTracker, userId: string, text = ""): Promise<MadeTrace> {
  const request = TraceContext.create({ userId, threadId: `thread ${text}`, correlationId: `corr ${text}` });
  const planner = tracker.startExecution(request, {
    agentName: `planner${text}`,
    input: `plan the answer ${text}`,
    metadata: { tenant: `acme${text}` },
  });
  planner.timing.recordQueueWait(3);
  await llm(planner, "gpt-4o", 1200, 300, 200);
  const researcher = planner.startChild(`researcher${text}`, { input: `research ${text}` });
  const tool = researcher.startToolCall(`web_search${text}`, { query: text });
  await delay(30);
  tool.end({ status: "ok" });
  researcher.recordWebSocketNotification(`session${text}`, { durationMs: 1 });
  await llm(researcher, "gpt-4o-mini", 800, 100, 0);
  const checker = researcher.startChild(`fact-checker${text}`, { input: [`claim ${text}`] });
  await llm(checker, "gpt-4o-mini", 400, 40, 100);
  const errorMessage = `no source supports the claim ${text}`;
  checker.fail(new UnsupportedClaimError(errorMessage), {
    phase: TimingPhase.LlmProcessing,
    severity: ErrorSeverity.Error,
  });
  researcher.complete(`findings ${text}`);
  await delay(10);
  planner.complete(`the answer ${text}`);
  return {
    traceId: planner.context.traceId,
    userId,
    executionIds: {
      planner: planner.executionId,
      researcher: researcher.executionId,
      checker: checker.executionId,
    },
    usage: {
      "gpt-4o": { input: 1200, cached: 200, output: 300 },
      "gpt-4o-mini": { input: 1200, cached: 100, output: 140 },
    },
    errorMessage,
  };
}
