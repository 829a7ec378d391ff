import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_HOST, RECEIVER_OPTIONS, resolveReceiverConfig } from "@tracehouse/receiver";
import { ConfigError } from "@tracehouse/schemas";
import { WORKER_BOUNDS, resolveWorkerConfig } from "@tracehouse/worker";
import { expect } from "chai";
import type { Command } from "commander";
import { main } from "../src/main.js";
import { buildProgram } from "../src/program.js";
import { LISTENERS } from "../src/options/receiver.js";
import { BATCHING, CONSUMER_GROUP, RETRIES, workerOptionsFrom } from "../src/options/worker.js";
import { readOptions, shownDefault, tablesOf } from "../src/options/spec.js";
import type { FlagOptionSpec, OptionSpec } from "../src/options/spec.js";
import { UI_PORT, uiSettingsFrom } from "../src/options/ui.js";

function commandsOf(command: Command, path: readonly string[] = []): [string, Command][] {
  return command.commands.flatMap((sub) => {
    const name = [...path, sub.name()];
    return [[name.join(" "), sub] as [string, Command], ...commandsOf(sub, name)];
  });
}

const COMMANDS = commandsOf(buildProgram({ out: () => undefined, err: () => undefined }));

/** Runs the CLI in this process with `env` set for the call; parsing fails before anything is opened. */
async function run(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number; out: string; err: string }> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  let out = "";
  let err = "";
  try {
    const code = await main(["node", "tracehouse", ...args], {
      out: (text) => (out += text),
      err: (text) => (err += text),
    });
    return { code, out, err };
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe("CLI option tables", () => {
  it("every option that reads an environment variable is declared in a table the command took", () => {
    for (const [name, command] of COMMANDS) {
      const declared = tablesOf(command).flatMap((table) => Object.values(table.options));
      for (const option of command.options) {
        if (option.envVar === undefined) continue;
        const spec = declared.find((s) => s.type !== "secret" && `--${s.flag}` === option.long);
        expect(spec, `${name} ${option.long}`).to.not.equal(undefined);
        expect(option.envVar, `${name} ${option.long}`).to.equal(spec!.env);
      }
    }
  });

  it("one flag, one variable: no variable serves two flags, no flag two variables, no secret has a flag", () => {
    const flagOfEnv = new Map<string, string>();
    const envOfFlag = new Map<string, string>();
    const secrets = new Set<string>();
    for (const [, command] of COMMANDS) {
      for (const spec of tablesOf(command).flatMap((table) => Object.values(table.options)) as OptionSpec[]) {
        if (spec.type === "secret") {
          secrets.add(spec.env);
          expect(spec).to.not.have.property("flag");
          continue;
        }
        expect(flagOfEnv.get(spec.env) ?? spec.flag, spec.env).to.equal(spec.flag);
        expect(envOfFlag.get(spec.flag) ?? spec.env, spec.flag).to.equal(spec.env);
        flagOfEnv.set(spec.env, spec.flag);
        envOfFlag.set(spec.flag, spec.env);
      }
    }
    expect([...secrets].sort()).to.deep.equal([
      "CLICKHOUSE_PASSWORD",
      "KAFKA_SASL_PASSWORD",
      "TRACEHOUSE_UI_AUTH",
    ]);
    for (const secret of secrets) expect(flagOfEnv.has(secret), secret).to.equal(false);
  });

  it("--help of every command shows each option's variable and default, its secrets by name, and never a secret's value", async () => {
    const secrets = {
      KAFKA_SASL_PASSWORD: "kafka-pw-6f1e",
      CLICKHOUSE_PASSWORD: "clickhouse-pw-93ad",
      TRACEHOUSE_UI_AUTH: "bearer:ui-token-51c7",
    };
    for (const [name, command] of COMMANDS) {
      if (command.commands.length > 0) continue;
      const help = await run([...name.split(" "), "--help"], secrets);
      expect(help.code, name).to.equal(0);
      const text = help.out.replace(/\s+/g, " ");
      for (const table of tablesOf(command)) {
        for (const spec of Object.values(table.options)) {
          if (spec.type === "secret") {
            expect(help.out, `${name}: ${spec.env}`).to.include(`  ${spec.env}   `);
            continue;
          }
          expect(text, `${name} --${spec.flag}`).to.include(`env: ${spec.env}`);
          const shown = shownDefault(spec);
          if (shown !== undefined)
            expect(text, `${name} --${spec.flag}`).to.include(`(default: ${shown.replace(/\s+/g, " ")})`);
        }
      }
      for (const value of Object.values(secrets))
        expect(help.out, name).to.not.include(value.split(":").pop());
    }
  });

  it("a bad value ends with exit 2 and a ConfigError naming the flag, or the variable it came from; bounds are the libraries'", async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ["worker", "--max-dead-letter-bytes", "100"],
        {},
        /--max-dead-letter-bytes: must be at least 16384, got 100/,
      ],
      [
        ["worker"],
        { TRACEHOUSE_MAX_DEAD_LETTER_RATIO: "0" },
        /TRACEHOUSE_MAX_DEAD_LETTER_RATIO: must be above 0, got 0/,
      ],
      [
        ["worker", "--max-dead-letter-ratio", "1.5"],
        {},
        /--max-dead-letter-ratio: must be at most 1, got 1.5/,
      ],
      [["worker", "--health-port", "65536"], {}, /--health-port: must be at most 65535, got 65536/],
      [["worker", "--health-port", "soon"], {}, /--health-port: expected an integer or "off", got "soon"/],
      [
        ["worker"],
        { TRACEHOUSE_SESSION_TIMEOUT_MS: "1e4" },
        /TRACEHOUSE_SESSION_TIMEOUT_MS: expected an integer, got "1e4"/,
      ],
      [["worker", "--ui-port", "-1"], {}, /--ui-port: must be at least 0, got -1/],
      [["worker", "--ttl-days", "ninety"], {}, /--ttl-days: expected an integer or "none", got "ninety"/],
      [["receive", "--max-spans-per-request", "0"], {}, /--max-spans-per-request: must be at least 1, got 0/],
      [
        ["receive"],
        { TRACEHOUSE_OTLP_PRODUCERS: "65" },
        /TRACEHOUSE_OTLP_PRODUCERS: must be at most 64, got 65/,
      ],
      [["ui", "--ui-port", "port"], {}, /--ui-port: expected an integer, got "port"/],
      [
        ["query", "--max-execution-time", "-1", "SELECT 1"],
        {},
        /--max-execution-time: must be at least 0, got -1/,
      ],
      [["stats", "--hours", "0"], {}, /--hours: must be above 0, got 0/],
      [
        ["topics", "create", "--replication-factor", "0"],
        {},
        /--replication-factor: must be at least 1, got 0/,
      ],
      [["worker"], { KAFKA_VERIFY_HOSTNAME: "no" }, /KAFKA_VERIFY_HOSTNAME.*is invalid/],
    ];
    for (const [args, env, message] of cases) {
      const result = await run(args, { KAFKA_BROKERS: "127.0.0.1:1", ...env });
      expect(result.code, args.join(" ")).to.equal(2);
      expect(result.err, `${args.join(" ")} ${JSON.stringify(env)}`).to.match(message);
    }
  });

  it("refuses a credential on the command line without repeating it; reads it from a file or the environment", async () => {
    const refused = await run(["ui", "--ui-auth", "bearer:token-on-the-command-line"]);
    expect(refused.code).to.equal(2);
    expect(refused.err).to.match(
      /--ui-auth: a credential on the command line is visible to anyone running ps/,
    );
    expect(refused.err).to.not.include("token-on-the-command-line");

    const dir = mkdtempSync(join(tmpdir(), "tracehouse-ui-auth-"));
    try {
      const file = join(dir, "auth");
      writeFileSync(file, "bearer:from-a-file\n");
      expect(uiSettingsFrom({ uiAuthFile: file }, {}, UI_PORT, {})?.auth).to.deep.equal({
        kind: "bearer",
        token: "from-a-file",
      });
      expect(uiSettingsFrom({}, {}, UI_PORT, { TRACEHOUSE_UI_AUTH: "basic:u:p" })?.auth).to.deep.equal({
        kind: "basic",
        user: "u",
        password: "p",
      });
      expect(() =>
        uiSettingsFrom({ uiAuthFile: file }, {}, UI_PORT, { TRACEHOUSE_UI_AUTH: "bearer:x" }),
      ).to.throw(ConfigError, /either in TRACEHOUSE_UI_AUTH or with --ui-auth-file, not both/);
      let error: unknown;
      try {
        uiSettingsFrom({}, {}, UI_PORT, { TRACEHOUSE_UI_AUTH: "secret-but-malformed" });
      } catch (e) {
        error = e;
      }
      expect(error)
        .to.be.instanceOf(ConfigError)
        .with.property("message")
        .that.matches(/^TRACEHOUSE_UI_AUTH: /);
      expect((error as Error).message).to.not.include("secret-but-malformed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("declares no library default a second time: no flags resolve to the libraries' own configs", () => {
    const fromTables = resolveWorkerConfig(workerOptionsFrom({}, {}));
    const fromLibrary = resolveWorkerConfig({ createTables: true });
    const { logger: _a, security: _b, ...cli } = fromTables;
    const { logger: _c, security: _d, ...library } = fromLibrary;
    expect(cli).to.deep.equal(library);

    const listeners = readOptions(LISTENERS, {});
    expect(listeners.host).to.equal(DEFAULT_HOST);
    const { logger: _e, ...receiverCli } = resolveReceiverConfig({ brokers: ["b:1"], ...listeners });
    const { logger: _f, ...receiverLibrary } = resolveReceiverConfig({ brokers: ["b:1"] });
    expect(receiverCli).to.deep.equal(receiverLibrary);
    for (const [name, spec] of Object.entries(RECEIVER_OPTIONS)) {
      const row = LISTENERS.options[name as keyof typeof RECEIVER_OPTIONS] as FlagOptionSpec;
      expect(row, name).to.include({ flag: spec.flag, env: spec.env, default: spec.default });
    }
    for (const table of [BATCHING, RETRIES, CONSUMER_GROUP]) {
      for (const [name, spec] of Object.entries(table.options)) {
        const bounds = WORKER_BOUNDS[name as keyof typeof WORKER_BOUNDS];
        expect(spec, name).to.include(bounds);
      }
    }
  });
});
