import { DEFAULT_CLIENT_ID, DEFAULT_HOST, RECEIVER_OPTIONS } from "@tracehouse/receiver";
import type { ReceiverIntegerOption } from "@tracehouse/receiver";
import { KAFKA_CONNECTION } from "./kafka.js";
import { adjust, optionTable } from "./spec.js";
import type { IntegerSpec } from "./spec.js";

const PORTS: readonly ReceiverIntegerOption[] = ["httpPort", "grpcPort"];

/** The receiver's limits: name, default, bounds, flag, env and doc all come from the receiver's RECEIVER_OPTIONS. */
const limits = Object.fromEntries(
  Object.entries(RECEIVER_OPTIONS).map(([name, spec]) => {
    const port = PORTS.includes(name as ReceiverIntegerOption);
    const integer: IntegerSpec = {
      type: "integer",
      flag: spec.flag,
      env: spec.env,
      default: spec.default,
      min: spec.min,
      max: spec.max,
      doc: port ? `${spec.doc}; "off" disables it` : spec.doc,
      ...(port ? { none: "off" } : {}),
    };
    return [name, integer];
  }),
) as Record<ReceiverIntegerOption, IntegerSpec>;

export const LISTENERS = optionTable(
  "Listeners",
  {
    host: {
      type: "text",
      flag: "host",
      arg: "<address>",
      env: "TRACEHOUSE_OTLP_HOST",
      default: DEFAULT_HOST,
      doc: "address both listeners bind",
    },
    ...limits,
  },
  "Receiver listeners and limits",
);

/** `receive` produces with a client id of its own. */
export const RECEIVER_KAFKA = adjust(KAFKA_CONNECTION, { clientId: { default: DEFAULT_CLIENT_ID } });

export const SPOOL = optionTable(
  "Kafka",
  {
    spoolDir: {
      type: "text",
      flag: "spool-dir",
      arg: "<dir>",
      env: "TRACEHOUSE_SPOOL_DIR",
      defaultText: "<tmpdir>/tracehouse-spool/<client id>",
      doc: "the producer's on-disk spool for Kafka outages, one directory per receiver process",
    },
    spool: {
      type: "switch",
      flag: "no-spool",
      env: "TRACEHOUSE_NO_SPOOL",
      defaultText: "a spool",
      doc: "no on-disk spool: while Kafka is down every request gets 503",
    },
  },
  "Receiver spool",
);
