import type { Command } from "commander";
import { buildProgram } from "../program.js";
import { flagsOf, shownDefault, tablesOf } from "./spec.js";
import type { FlagOptionSpec, OptionSpec, OptionTable } from "./spec.js";

export interface OptionReferenceRow {
  /** `--max-batch-rows <n>`; null for a secret, which has no flag. */
  readonly flag: string | null;
  readonly env: string;
  /** Type and bounds: `integer ≥ 1`, `integer 0–65535 or "off"`, `plain \| scram-sha-256`. */
  readonly value: string;
  readonly default: string | null;
  readonly doc: string;
}

/** One option table: its rows, the commands that take it, and how commands vary it. */
export interface OptionReference {
  readonly name: string;
  /** `worker`, `topics create`; `trace (--cluster)` where a command takes only some of the options. */
  readonly commands: readonly string[];
  readonly rows: readonly OptionReferenceRow[];
  /** A command's own default or meaning of an option (`doc` empty when the meaning is the same). */
  readonly variants: readonly (OptionReferenceRow & { readonly command: string })[];
}

function valueOf(spec: OptionSpec): string {
  switch (spec.type) {
    case "integer": {
      const bounds =
        spec.min !== undefined && spec.max !== undefined
          ? ` ${spec.min}–${spec.max}`
          : spec.min !== undefined
            ? ` ≥ ${spec.min}`
            : spec.max !== undefined
              ? ` ≤ ${spec.max}`
              : "";
      return `integer${bounds}${spec.none === undefined ? "" : ` or "${spec.none}"`}`;
    }
    case "number":
      return [
        "number",
        [spec.above === undefined ? "" : `> ${spec.above}`, spec.max === undefined ? "" : `≤ ${spec.max}`]
          .filter((b) => b !== "")
          .join(", "),
      ]
        .join(" ")
        .trim();
    case "list":
      return "comma-separated list";
    case "choice":
      return spec.choices.join(" | ");
    case "boolean":
      return "true | false";
    default:
      return spec.type;
  }
}

function rowOf(spec: OptionSpec, table: OptionTable): OptionReferenceRow {
  if (spec.type === "secret") {
    const file = table.options[spec.file] as FlagOptionSpec;
    return {
      flag: null,
      env: spec.env,
      value: valueOf(spec),
      default: null,
      doc: `${spec.doc}, instead of --${file.flag}; environment only, never a flag (which \`ps\` would show)`,
    };
  }
  return {
    flag: flagsOf(spec),
    env: spec.env,
    value: valueOf(spec),
    default: shownDefault(spec) ?? null,
    doc: spec.doc,
  };
}

function commandsOf(command: Command, path: readonly string[] = []): [string, Command][] {
  return command.commands.flatMap((sub) => {
    const name = [...path, sub.name()];
    return [[name.join(" "), sub] as [string, Command], ...commandsOf(sub, name)];
  });
}

/** Every option table of the `tracehouse` program, in the order commands first take them. */
export function optionReference(): OptionReference[] {
  const program = buildProgram({ out: () => undefined, err: () => undefined });
  const sections = new Map<
    OptionTable,
    { commands: string[]; variants: (OptionReferenceRow & { command: string })[] }
  >();
  for (const [name, command] of commandsOf(program)) {
    for (const table of tablesOf(command)) {
      const base = table.base ?? table;
      const section = sections.get(base) ?? { commands: [], variants: [] };
      sections.set(base, section);
      const keys = Object.keys(table.options);
      const some = keys.length < Object.keys(base.options).length;
      const flags = keys.map((key) => {
        const spec = table.options[key]!;
        return spec.type === "secret" ? spec.env : `--${spec.flag}`;
      });
      if (!section.commands.some((c) => c === name || c.startsWith(`${name} (`)))
        section.commands.push(some ? `${name} (${flags.join(", ")})` : name);
      for (const key of keys) {
        const row = rowOf(table.options[key]!, table);
        const baseRow = rowOf(base.options[key]!, base);
        if (row.default !== baseRow.default || row.doc !== baseRow.doc)
          section.variants.push({ command: name, ...row, doc: row.doc === baseRow.doc ? "" : row.doc });
      }
    }
  }
  return [...sections].map(([table, { commands, variants }]) => ({
    name: table.name ?? table.title,
    commands,
    rows: Object.values(table.options).map((spec) => rowOf(spec, table)),
    variants,
  }));
}
