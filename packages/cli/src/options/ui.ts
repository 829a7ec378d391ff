import type { PriceTable, Sink } from "@tracehouse/clickhouse";
import { loadPriceTable } from "@tracehouse/clickhouse";
import { ConfigError, readOptionFile } from "@tracehouse/schemas";
import type { Logger } from "@tracehouse/schemas";
import { DEFAULT_UI_HOST, parseAuth, startUiServer } from "@tracehouse/ui";
import type { UiAuth, UiServer } from "@tracehouse/ui";
import { Option } from "commander";
import type { Command } from "commander";
import { addOptions, adjust, optionTable, readOptions, secretOf, valueOf } from "./spec.js";
import type { Environment, RawOptions, Sources } from "./spec.js";

/** The trace explorer's port: `tracehouse ui` serves it on 7788 unless told otherwise. */
export const UI_PORT = optionTable(
  "Trace explorer",
  {
    uiPort: {
      type: "integer",
      flag: "ui-port",
      arg: "<port>",
      env: "TRACEHOUSE_UI_PORT",
      default: 7788,
      min: 0,
      max: 65_535,
      doc: "port of the trace explorer; 0 picks one",
    },
  },
  "Trace explorer port",
);

/** `tracehouse worker` serves the trace explorer only when given a port. */
export const WORKER_UI_PORT = adjust(UI_PORT, {
  uiPort: {
    default: undefined,
    defaultText: "off",
    doc: "also serve the trace explorer from this process (the embedded engine's data directory is held by one process); 0 picks a port",
  },
});

/** `--ui-host` and the credentials, shared by `tracehouse ui` and `tracehouse worker --ui-port`. */
export const UI_SERVER = optionTable(
  "Trace explorer",
  {
    uiHost: {
      type: "text",
      flag: "ui-host",
      arg: "<host>",
      env: "TRACEHOUSE_UI_HOST",
      default: DEFAULT_UI_HOST,
      doc: "address the trace explorer listens on",
    },
    uiAuthFile: {
      type: "text",
      flag: "ui-auth-file",
      arg: "<path>",
      env: "TRACEHOUSE_UI_AUTH_FILE",
      defaultText: "none; set one before listening beyond loopback",
      doc: 'file holding the credentials the trace explorer requires, "bearer:<token>" or "basic:<user>:<password>"',
    },
    uiAuth: {
      type: "secret",
      env: "TRACEHOUSE_UI_AUTH",
      doc: "trace explorer credential",
      file: "uiAuthFile",
    },
  },
  "Trace explorer server",
);

/**
 * The trace explorer's options, and a refusal of the retired `--ui-auth <spec>`: a credential on the
 * command line is visible to anyone running `ps`.
 */
export function addUiServerOptions(command: Command): Command {
  return addOptions(command, UI_SERVER).addOption(
    new Option("--ui-auth <spec>").hideHelp().argParser((): never => {
      throw new ConfigError(
        `--ui-auth: a credential on the command line is visible to anyone running ps; put it in ${UI_SERVER.options.uiAuth.env} or in a file named by --ui-auth-file`,
      );
    }),
  );
}

export const PRICES = optionTable("Cost", {
  prices: {
    type: "text",
    flag: "prices",
    arg: "<file>",
    env: "TRACEHOUSE_PRICES",
    defaultText: "the built-in prices",
    doc: 'JSON model prices in USD per million tokens over the defaults: {"model": {"input": 2.5, "output": 10, "cachedInput": 1.25}}',
  },
});

export function pricesFrom(raw: RawOptions, sources: Sources = {}): PriceTable {
  return loadPriceTable(readOptions(PRICES, raw, sources).prices);
}

/** Where and for whom the trace explorer listens, resolved before anything is opened. */
export interface UiSettings {
  readonly port: number;
  readonly host: string;
  readonly auth: UiAuth;
}

function authFrom(raw: RawOptions, env: Environment): UiAuth {
  const { value, file } = secretOf(UI_SERVER, "uiAuth", raw, env);
  const text =
    file === undefined
      ? value
      : readOptionFile(file, "--ui-auth-file")
          .toString("utf8")
          .replace(/\r?\n$/, "");
  try {
    return parseAuth(text);
  } catch (error) {
    // the message names where the credential came from, never the credential
    const where = file === undefined ? UI_SERVER.options.uiAuth.env : "--ui-auth-file";
    throw new ConfigError(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The trace explorer's settings from the port of `table` (UI_PORT, or WORKER_UI_PORT where it
 * is off by default) and the server options; null when no port is given.
 */
export function uiSettingsFrom(
  raw: RawOptions,
  sources: Sources = {},
  table: typeof UI_PORT = UI_PORT,
  env: Environment = process.env,
): UiSettings | null {
  const port = valueOf(table.options.uiPort, raw, sources) as number | undefined;
  if (port === undefined) return null;
  const { uiHost } = readOptions(UI_SERVER, raw, sources);
  return { port, host: uiHost, auth: authFrom(raw, env) };
}

/** Starts the trace explorer over `sink`. */
export function startUi(
  settings: UiSettings,
  sink: Sink,
  prices: PriceTable,
  logger: Logger,
): Promise<UiServer> {
  return startUiServer({ sink, prices, logger, ...settings });
}
