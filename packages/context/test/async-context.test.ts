import { expect } from "chai";
import { EventEmitter, once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AsyncContextManager,
  bindEmitter,
  currentContext,
  defaultContextManager,
  runWithContext,
  TraceContext,
} from "../src/index.js";

function nextImmediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function afterTimeout(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("runWithContext / currentContext", () => {
  it("is undefined outside any context", () => {
    expect(currentContext()).to.equal(undefined);
  });

  it("makes the context active for the callback and returns its result", () => {
    const context = TraceContext.create();
    const result = runWithContext(
      context,
      (a: number, b: number) => {
        expect(currentContext()).to.equal(context);
        return a + b;
      },
      2,
      3,
    );
    expect(result).to.equal(5);
    expect(currentContext()).to.equal(undefined);
  });

  it("nests and restores", () => {
    const outer = TraceContext.create();
    const inner = outer.child();
    runWithContext(outer, () => {
      runWithContext(inner, () => expect(currentContext()).to.equal(inner));
      expect(currentContext()).to.equal(outer);
    });
  });

  it("survives await, setTimeout, setImmediate, nextTick and timers/promises", async () => {
    const context = TraceContext.create();
    const seen = await runWithContext(context, async () => {
      const seen: (TraceContext | undefined)[] = [];
      await Promise.resolve();
      seen.push(currentContext());
      await afterTimeout(5);
      seen.push(currentContext());
      await nextImmediate();
      seen.push(currentContext());
      await new Promise<void>((resolve) => process.nextTick(resolve));
      seen.push(currentContext());
      await sleep(1);
      seen.push(currentContext());
      seen.push(
        await new Promise<TraceContext | undefined>((resolve) =>
          setTimeout(() => resolve(currentContext()), 1),
        ),
      );
      return seen;
    });
    expect(seen).to.have.length(6);
    for (const value of seen) expect(value).to.equal(context);
  });

  it("gives each concurrent sub-agent its own context through Promise.all", async () => {
    const parent = TraceContext.create({ userId: "u" });
    const bus = new EventEmitter();

    async function subAgent(index: number): Promise<{ index: number; seen: TraceContext[] }> {
      const own = currentContext();
      if (own === undefined) throw new Error("no context in sub-agent");
      const seen: TraceContext[] = [];
      const record = (): void => {
        const active = currentContext();
        if (active !== undefined) seen.push(active);
      };
      await afterTimeout(10 - index * 2);
      record();
      await nextImmediate();
      record();
      const local = new EventEmitter();
      const heard = once(local, "done");
      local.on("done", record);
      setTimeout(() => local.emit("done"), index);
      await heard;
      await Promise.all([sleep(1).then(record), nextImmediate().then(record)]);
      bus.emit("progress", index);
      return { index, seen };
    }

    const progress: (TraceContext | undefined)[] = [];
    bus.on("progress", () => progress.push(currentContext()));

    const children: TraceContext[] = [];
    const results = await runWithContext(parent, () =>
      Promise.all(
        [0, 1, 2, 3].map((index) => {
          const child = parent.child();
          children.push(child);
          return runWithContext(child, () => subAgent(index));
        }),
      ),
    );

    for (const { index, seen } of results) {
      const own = children[index] as TraceContext;
      expect(seen).to.have.length(5);
      for (const active of seen) expect(active).to.equal(own);
      expect(own.parentSpanId).to.equal(parent.spanId);
      expect(own.userId).to.equal("u");
    }
    // emit() is synchronous: a listener sees the context of the emitting sub-agent
    expect(progress).to.have.members(children);
  });
});

describe("EventEmitter listeners", () => {
  it("by default see the context of the code that emits", () => {
    const registeredIn = TraceContext.create();
    const emittedIn = TraceContext.create();
    const emitter = new EventEmitter();
    const seen: (TraceContext | undefined)[] = [];
    runWithContext(registeredIn, () => emitter.on("x", () => seen.push(currentContext())));
    runWithContext(emittedIn, () => emitter.emit("x"));
    emitter.emit("x");
    expect(seen).to.deep.equal([emittedIn, undefined]);
  });

  it("with bindEmitter see the context where they were registered", () => {
    const first = TraceContext.create();
    const second = TraceContext.create();
    const emitter = bindEmitter(new EventEmitter());
    const seen: [string, TraceContext | undefined][] = [];
    runWithContext(first, () => emitter.on("x", () => seen.push(["on", currentContext()])));
    runWithContext(second, () => emitter.once("x", () => seen.push(["once", currentContext()])));
    emitter.on("x", () => seen.push(["none", currentContext()]));
    runWithContext(TraceContext.create(), () => emitter.emit("x"));
    emitter.emit("x");
    expect(seen).to.deep.equal([
      ["on", first],
      ["once", second],
      ["none", undefined],
      ["on", first],
      ["none", undefined],
    ]);
  });

  it("with bindEmitter still removes listeners by their original function", () => {
    const emitter = bindEmitter(new EventEmitter());
    let calls = 0;
    const listener = (): void => {
      calls++;
    };
    runWithContext(TraceContext.create(), () => {
      emitter.on("x", listener);
      emitter.once("y", listener);
      emitter.prependListener("z", listener);
    });
    expect(emitter.listeners("x")).to.deep.equal([listener]);
    emitter.off("x", listener);
    emitter.removeListener("y", listener);
    emitter.off("z", listener);
    emitter.emit("x");
    emitter.emit("y");
    emitter.emit("z");
    expect(calls).to.equal(0);
    expect(emitter.listenerCount("x") + emitter.listenerCount("y") + emitter.listenerCount("z")).to.equal(0);
  });

  it("with bindEmitter runs once listeners once and removes them", () => {
    const emitter = bindEmitter(new EventEmitter());
    const context = TraceContext.create();
    const seen: (TraceContext | undefined)[] = [];
    runWithContext(context, () => emitter.once("x", () => seen.push(currentContext())));
    emitter.emit("x");
    emitter.emit("x");
    expect(seen).to.deep.equal([context]);
    expect(emitter.listenerCount("x")).to.equal(0);
  });

  it("bindEmitter is idempotent", () => {
    const emitter = new EventEmitter();
    bindEmitter(bindEmitter(emitter));
    const context = TraceContext.create();
    let seen: TraceContext | undefined;
    runWithContext(context, () => emitter.on("x", () => (seen = currentContext())));
    emitter.emit("x");
    expect(seen).to.equal(context);
  });
});

describe("AsyncContextManager", () => {
  it("instances are independent of each other and of the default one", () => {
    const manager = new AsyncContextManager();
    const context = TraceContext.create();
    manager.run(context, () => {
      expect(manager.active()).to.equal(context);
      expect(defaultContextManager.active()).to.equal(undefined);
    });
  });

  it("bind runs a function in the context it was bound in, or in none", async () => {
    const manager = new AsyncContextManager();
    const context = TraceContext.create();
    const bound = manager.run(context, () => manager.bind(() => manager.active()));
    const unbound = manager.bind(() => manager.active());
    expect(bound()).to.equal(context);
    expect(manager.run(TraceContext.create(), unbound)).to.equal(undefined);
    const explicit = manager.bind(() => manager.active(), context);
    expect(explicit()).to.equal(context);
  });

  it("exit runs outside any context", () => {
    const manager = new AsyncContextManager();
    manager.run(TraceContext.create(), () =>
      expect(manager.exit(() => manager.active())).to.equal(undefined),
    );
  });
});
