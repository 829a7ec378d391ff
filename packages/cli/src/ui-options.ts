import { ConfigError } from "@tracehouse/schemas";
import type { PriceTable, Sink } from "@tracehouse/clickhouse";
import { parseAuth, startUiServer } from "@tracehouse/ui";
import type { UiServer } from "@tracehouse/ui";
import type { Logger } from "@tracehouse/schemas";
import { Option } from "commander";
import type { Command } from "commander";
import { integerOption } from "./options.js";
import type { RawOptions } from "./options.js";

/** `--ui-host` and `--ui-auth`, shared by `tracehouse ui` and `tracehouse worker --ui-port`. */
export function addUiServerOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--ui-host <host>", "address the trace explorer listens on")
        .env("TRACEHOUSE_UI_HOST")
        .default("127.0.0.1"),
    )
    .addOption(
      new Option(
        "--ui-auth <spec>",
        'require "bearer:<token>" or "basic:<user>:<password>" (default: none; set one before listening beyond loopback)',
      ).env("TRACEHOUSE_UI_AUTH"),
    );
}

/** Starts the trace explorer over `sink` with the UI options of `raw`. */
export function startUiFrom(
  raw: RawOptions,
  sink: Sink,
  prices: PriceTable,
  logger: Logger,
  port: number,
): Promise<UiServer> {
  return startUiServer({
    sink,
    prices,
    logger,
    port,
    host: typeof raw.uiHost === "string" ? raw.uiHost : "127.0.0.1",
    auth: parseAuth(typeof raw.uiAuth === "string" ? raw.uiAuth : undefined),
  });
}

export function uiPortFrom(raw: RawOptions): number | undefined {
  const port = integerOption(raw, "uiPort", "ui-port");
  if (port !== undefined && (port < 0 || port > 65535)) throw new ConfigError("--ui-port must be 0..65535");
  return port;
}
