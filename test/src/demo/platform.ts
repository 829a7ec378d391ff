import { setTimeout as delay } from "node:timers/promises";
import { SpanKind } from "@opentelemetry/api";
import { injectHttpHeaders, TraceContext } from "@tracehouse/context";
import { ExecutionState, TimingPhase } from "@tracehouse/producer";
import type { AgentTracer, Execution, ExecutionTracker } from "@tracehouse/producer";
import { CACHED_INPUT_ATTRIBUTE } from "@tracehouse/clickhouse";
import { ErrorSeverity, SpanStatusCode } from "@tracehouse/schemas";
import {
  ContextWindowExceededError,
  RateLimitedError,
  ToolUnavailableError,
  UnsupportedClaimError,
} from "./errors.js";
import type { NotificationHub } from "./notifications.js";
import type { Random } from "./random.js";
import { PARENT_EXECUTION_BAGGAGE } from "./tool-service.js";
import type { ToolResponse } from "./tool-service.js";

export const Agent = {
  Supervisor: "supervisor",
  Researcher: "researcher",
  FactChecker: "fact-checker",
  Writer: "writer",
} as const;

/** How often things go wrong, per attempt. */
export interface FailureRates {
  /** An LLM call is rate limited before its first token (retried). */
  readonly rateLimit: number;
  /** The fact-checker finds a claim without a source (the sub-agent fails). */
  readonly unsupportedClaim: number;
  /** The supervisor's final prompt does not fit (the conversation fails). */
  readonly contextWindow: number;
}

export interface Platform {
  readonly tracker: ExecutionTracker;
  readonly tracer: AgentTracer;
  readonly notifications: NotificationHub;
  readonly toolServiceUrl: string;
  readonly failures: FailureRates;
}

/** What one conversation did, as the platform saw it. */
export interface Conversation {
  readonly index: number;
  readonly traceId: string;
  readonly rootExecutionId: string;
  readonly failed: boolean;
  readonly toolCalls: number;
  readonly retries: number;
  readonly failedAgents: readonly string[];
}

interface Tally {
  toolCalls: number;
  retries: number;
  failedAgents: string[];
}

const MAX_ATTEMPTS = 3;

const QUESTIONS = [
  "Which regions had the highest churn last quarter, and why?",
  "Summarise the open incidents that mention the payments API.",
  "Compare our onboarding funnel with last year's.",
  "What did customers say about the new pricing page?",
  "Draft release notes for the agent runtime 2.4.",
  "Which suppliers are late on their deliveries this month?",
] as const;

const MODELS = { large: "gpt-4o", small: "gpt-4o-mini", writer: "claude-sonnet-4-5" } as const;

function retryDelayMs(random: Random, attempt: number): number {
  return random.between(5, 15) * 2 ** (attempt - 1);
}

/**
 * A streamed LLM call: LLM_CALL_START, the wait for the first token (TTFT), the stream (each
 * chunk optionally pushed to the user as a WebSocket notification), LLM_CALL_END with the usage.
 * A rate-limited attempt is logged as a retriable warning and retried with backoff.
 */
async function streamCompletion(
  platform: Platform,
  execution: Execution,
  random: Random,
  tally: Tally,
  options: { model: string; promptTokens: number; completionTokens: number; notifyChannel?: string },
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const call = execution.startLlmCall(options.model, { stream: "true", attempt: String(attempt) });
    if (attempt < MAX_ATTEMPTS && random.chance(platform.failures.rateLimit)) {
      await delay(random.between(3, 8));
      call.end({ status: "rate_limited" });
      execution.recordError(new RateLimitedError(`${options.model}: rate limit reached for requests`), {
        phase: TimingPhase.LlmProcessing,
      });
      tally.retries += 1;
      await delay(retryDelayMs(random, attempt));
      continue;
    }
    await delay(random.between(15, 60));
    call.firstToken();
    const chunks = random.int(3, 6);
    for (let chunk = 1; chunk <= chunks; chunk += 1) {
      await delay(random.between(4, 12));
      if (options.notifyChannel !== undefined) {
        await platform.notifications.notify(execution, options.notifyChannel, { type: "token_chunk", chunk });
      }
    }
    call.end({
      status: "ok",
      usage: { promptTokens: options.promptTokens, completionTokens: options.completionTokens },
      // a quarter of the prompt served from the provider's cache (priced at the cached-input rate)
      attributes: { [CACHED_INPUT_ATTRIBUTE]: String(Math.floor(options.promptTokens / 4)) },
    });
    return;
  }
}

/**
 * A tool call to the tool service over HTTP: a CLIENT span, the context injected into the request
 * headers (with the calling execution's id as baggage), the round trip timed as external API time.
 * A 503 is logged as a retriable error and retried; null after the last attempt failed.
 */
async function callTool(
  platform: Platform,
  execution: Execution,
  random: Random,
  tally: Tally,
  tool: string,
  query: string,
): Promise<ToolResponse | null> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    tally.toolCalls += 1;
    const call = execution.startToolCall(tool, { transport: "http", attempt: String(attempt) });
    const span = platform.tracer.startAgentSpan(execution.agentName, execution.context, {
      executionId: execution.executionId,
      kind: SpanKind.CLIENT,
      name: `POST /tools/${tool}`,
      attributes: { "http.request.method": "POST", "http.request.resend_count": attempt - 1 },
    });
    const outgoing = span.context.with({ baggage: { [PARENT_EXECUTION_BAGGAGE]: execution.executionId } });
    const headers = injectHttpHeaders(outgoing, new Headers({ "content-type": "application/json" }));
    const started = performance.now();
    const response = await fetch(`${platform.toolServiceUrl}/tools/${tool}`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query }),
    });
    const text = await response.text();
    execution.timing.recordExternalApi(performance.now() - started);
    span.setAttribute("http.response.status_code", response.status);
    if (response.ok) {
      span.setStatus(SpanStatusCode.Ok).end();
      call.end({ status: "ok", payloadBytes: Buffer.byteLength(text) });
      return JSON.parse(text) as ToolResponse;
    }
    const error = new ToolUnavailableError(`${tool} answered ${response.status}: ${text}`);
    span.recordException(error).setStatus(SpanStatusCode.Error, error.message).end();
    call.end({ status: `http_${response.status}` });
    const last = attempt === MAX_ATTEMPTS;
    execution.recordError(error, {
      phase: TimingPhase.ToolExecution,
      severity: last ? ErrorSeverity.Error : ErrorSeverity.Warning,
    });
    if (!last) {
      tally.retries += 1;
      await delay(retryDelayMs(random, attempt));
    }
  }
  return null;
}

/** Level 2: checks the researcher's findings against a knowledge base; sometimes fails. */
async function factCheck(
  platform: Platform,
  researcher: Execution,
  random: Random,
  tally: Tally,
  findings: readonly string[],
): Promise<boolean> {
  const checker = researcher.startChild(Agent.FactChecker, { input: findings });
  await checker.timing.time(TimingPhase.Initialization, () => delay(random.between(2, 6)));
  const lookup = checker.startToolCall("knowledge_base");
  const started = performance.now();
  await delay(random.between(5, 20));
  checker.timing.recordDatabaseQuery(performance.now() - started);
  lookup.end({ status: "ok" });
  await streamCompletion(platform, checker, random, tally, {
    model: MODELS.small,
    promptTokens: random.int(300, 900),
    completionTokens: random.int(20, 80),
  });
  if (random.chance(platform.failures.unsupportedClaim)) {
    checker.fail(new UnsupportedClaimError(`no source supports "${findings[0] ?? "the claim"}"`), {
      phase: TimingPhase.LlmProcessing,
    });
    tally.failedAgents.push(Agent.FactChecker);
    return false;
  }
  checker.complete({ verified: findings.length });
  return true;
}

/** Level 1: searches through the tool service (level 2 there) and has the findings fact-checked. */
async function research(
  platform: Platform,
  supervisor: Execution,
  random: Random,
  tally: Tally,
  question: string,
): Promise<string[]> {
  const researcher = supervisor.startChild(Agent.Researcher, { input: question });
  await researcher.timing.time(TimingPhase.Initialization, () => delay(random.between(2, 8)));
  const found = await callTool(platform, researcher, random, tally, "web_search", question);
  if (found === null) {
    researcher.fail(new ToolUnavailableError("web_search unavailable after retries"), {
      phase: TimingPhase.ToolExecution,
    });
    tally.failedAgents.push(Agent.Researcher);
    return [];
  }
  const verified = await factCheck(platform, researcher, random, tally, found.results);
  if (!verified) {
    researcher.recordError(new UnsupportedClaimError("fact-check failed; keeping unverified findings"), {
      phase: TimingPhase.ToolExecution,
      severity: ErrorSeverity.Warning,
    });
  }
  await streamCompletion(platform, researcher, random, tally, {
    model: MODELS.small,
    promptTokens: random.int(800, 2000),
    completionTokens: random.int(100, 300),
  });
  researcher.complete({ findings: found.results.length, verified });
  return [...found.results];
}

/** Level 1: drafts the answer while the research runs, streaming it to the user. */
async function write(
  platform: Platform,
  supervisor: Execution,
  random: Random,
  tally: Tally,
  question: string,
  channel: string,
): Promise<void> {
  const writer = supervisor.startChild(Agent.Writer, { input: question });
  await writer.timing.time(TimingPhase.Initialization, () => delay(random.between(2, 6)));
  writer.timing.recordQueueWait(random.between(1, 10));
  await streamCompletion(platform, writer, random, tally, {
    model: MODELS.writer,
    promptTokens: random.int(400, 1200),
    completionTokens: random.int(200, 600),
    notifyChannel: channel,
  });
  writer.complete("draft ready");
}

/** One user conversation: a trace with a supervisor, its sub-agents, tools, LLM calls and notifications. */
export async function runConversation(
  platform: Platform,
  index: number,
  random: Random,
): Promise<Conversation> {
  const tally: Tally = { toolCalls: 0, retries: 0, failedAgents: [] };
  const question = random.pick(QUESTIONS);
  const request = TraceContext.create({
    userId: `user-${(index % 7) + 1}`,
    threadId: `thread-${index + 1}`,
    correlationId: `conversation-${index + 1}`,
  });
  const supervisor = platform.tracker.startExecution(request, {
    agentName: Agent.Supervisor,
    input: question,
    metadata: { tenant: random.pick(["acme", "globex", "initech"]) },
  });
  const channel = `session:${request.threadId}`;
  supervisor.timing.recordQueueWait(random.between(2, 25));
  await supervisor.timing.time(TimingPhase.Initialization, () => delay(random.between(5, 15)));
  await streamCompletion(platform, supervisor, random, tally, {
    model: MODELS.large,
    promptTokens: random.int(500, 1500),
    completionTokens: random.int(50, 150),
  });
  await platform.notifications.notify(supervisor, channel, { type: "status", text: "researching" });

  const [findings] = await Promise.all([
    research(platform, supervisor, random, tally, question),
    write(platform, supervisor, random, tally, question, channel),
  ]);

  if (random.chance(platform.failures.contextWindow)) {
    const error = new ContextWindowExceededError(
      `${MODELS.large}: prompt of ${random.int(128_001, 140_000)} tokens exceeds the 128000-token window`,
    );
    supervisor.fail(error, { phase: TimingPhase.LlmProcessing });
    tally.failedAgents.push(Agent.Supervisor);
    await platform.notifications.notify(supervisor, channel, {
      type: "error",
      text: "sorry, that went wrong",
    });
  } else {
    await streamCompletion(platform, supervisor, random, tally, {
      model: MODELS.large,
      promptTokens: random.int(2000, 6000),
      completionTokens: random.int(200, 500),
      notifyChannel: channel,
    });
    supervisor.complete(`answer from ${findings.length} findings`);
  }
  return {
    index,
    traceId: request.traceId,
    rootExecutionId: supervisor.executionId,
    failed: supervisor.state === ExecutionState.Failed,
    ...tally,
  };
}
