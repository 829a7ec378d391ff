import { MessageChannel } from "node:worker_threads";
import { contextFromWebSocketEvent, stampWebSocketEvent } from "@tracehouse/context";
import type { Execution } from "@tracehouse/producer";

interface Delivery {
  readonly id: number;
  readonly text: string;
}

/**
 * Stands in for the platform's WebSocket gateway: a notification is stamped with the execution's
 * trace context, serialized and posted over a MessageChannel to a "browser" that reads the trace
 * back and acknowledges it. Send time and delivery latency are measured, not invented.
 */
export class NotificationHub {
  readonly #channel = new MessageChannel();
  readonly #waiting = new Map<number, (receivedAt: number) => void>();
  #nextId = 0;
  /** Notifications whose trace context did not survive the trip (should stay 0). */
  lostContexts = 0;

  constructor() {
    this.#channel.port2.on("message", (delivery: Delivery) => {
      const receivedAt = performance.now();
      const event = JSON.parse(delivery.text) as { traceId?: string };
      if (contextFromWebSocketEvent(event).traceId !== event.traceId) this.lostContexts += 1;
      this.#waiting.get(delivery.id)?.(receivedAt);
      this.#waiting.delete(delivery.id);
    });
  }

  /** Sends one notification on behalf of `execution` and records it (send time, delivery latency, size). */
  async notify(
    execution: Execution,
    channel: string,
    payload: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const id = ++this.#nextId;
    const received = new Promise<number>((resolve) => this.#waiting.set(id, resolve));
    const sentAt = performance.now();
    const text = JSON.stringify(
      stampWebSocketEvent({ ...payload, channel, traceId: execution.context.traceId }, execution.context),
    );
    this.#channel.port1.postMessage({ id, text } satisfies Delivery);
    const durationMs = performance.now() - sentAt;
    const latencyMs = (await received) - sentAt;
    execution.recordWebSocketNotification(channel, {
      status: "delivered",
      durationMs,
      latencyMs,
      payloadBytes: Buffer.byteLength(text),
    });
  }

  close(): void {
    this.#channel.port1.close();
    this.#channel.port2.close();
  }
}
