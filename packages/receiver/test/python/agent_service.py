"""A FastAPI agent service instrumented with OpenTelemetry, exporting over OTLP to the receiver.

POST /ask runs a planner agent that calls an LLM and a tool, then a researcher sub-agent whose
tool fails (so the researcher fails); the planner handles that and completes. The spans follow
the OpenTelemetry GenAI semantic conventions. GET /health answers when ready; POST /flush
exports what is buffered. Configured by the standard OTEL_* variables and PORT.
"""

import os
import time

import uvicorn
from fastapi import FastAPI, Request
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
exporter = GrpcExporter() if protocol == "grpc" else HttpExporter()
provider = TracerProvider(resource=Resource.create({"service.name": "python-agent-service"}))
provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("agent_service", "1.0.0")

app = FastAPI()


def chat(model: str, input_tokens: int, output_tokens: int) -> None:
    with tracer.start_as_current_span(f"chat {model}", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.provider.name", "openai")
        span.set_attribute("gen_ai.request.model", model)
        time.sleep(0.02)
        span.set_attribute("gen_ai.response.time_to_first_chunk", 0.015)
        span.set_attribute("gen_ai.response.model", model)
        span.set_attribute("gen_ai.response.finish_reasons", ["stop"])
        span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", output_tokens)


class FetchError(Exception):
    pass


def execute_tool(name: str, fail: bool = False) -> None:
    with tracer.start_as_current_span(f"execute_tool {name}", kind=SpanKind.INTERNAL) as span:
        span.set_attribute("gen_ai.operation.name", "execute_tool")
        span.set_attribute("gen_ai.tool.name", name)
        span.set_attribute("gen_ai.tool.call.id", f"call-{name}")
        time.sleep(0.005)
        if fail:
            span.set_attribute("error.type", "FetchError")
            raise FetchError(f"{name}: upstream returned 502")


def invoke_agent(name: str, user: str, conversation: str):
    span = tracer.start_as_current_span(f"invoke_agent {name}", kind=SpanKind.INTERNAL)
    return span, {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": name,
        "gen_ai.conversation.id": conversation,
        "user.id": user,
    }


@app.get("/health")
def health() -> dict:
    return {"ok": True}


@app.post("/ask")
async def ask(request: Request) -> dict:
    body = await request.json()
    user, conversation = body["user"], body["conversation"]
    planner_cm, attributes = invoke_agent("planner", user, conversation)
    with planner_cm as planner:
        planner.set_attributes(attributes)
        chat("gpt-4o", 300, 40)
        execute_tool("get_weather")
        researcher_cm, attributes = invoke_agent("researcher", user, conversation)
        try:
            with researcher_cm as researcher:
                researcher.set_attributes(attributes)
                chat("gpt-4o-mini", 120, 25)
                execute_tool("fetch_page", fail=True)
        except FetchError:
            planner.add_event("researcher failed; answering without it")
        planner.set_status(Status(StatusCode.OK))
        trace_id = format(planner.get_span_context().trace_id, "032x")
    return {"trace_id": trace_id}


@app.post("/flush")
def flush() -> dict:
    return {"flushed": provider.force_flush(10_000)}


FastAPIInstrumentor.instrument_app(app)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
