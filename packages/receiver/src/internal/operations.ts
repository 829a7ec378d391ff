/** GenAI operations (OpenTelemetry GenAI semantic conventions, `gen_ai.operation.name`). */
export const GenAiOperation = {
  InvokeAgent: "invoke_agent",
  ExecuteTool: "execute_tool",
} as const;

/** Operations that are LLM calls. */
export const LLM_OPERATIONS: ReadonlySet<string> = new Set([
  "chat",
  "text_completion",
  "generate_content",
  "embeddings",
]);
