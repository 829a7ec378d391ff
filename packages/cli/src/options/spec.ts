import { ConfigError } from "@tracehouse/schemas";
import { Option } from "commander";
import type { Command } from "commander";

/** Raw option values as commander hands them over: strings (or booleans for switches), by attribute name. */
export type RawOptions = Readonly<Record<string, string | boolean | undefined>>;
/** Where each raw value came from ("cli", "env", "default"), by attribute name, as commander records it. */
export type Sources = Readonly<Record<string, string | undefined>>;
export type Environment = Readonly<Record<string, string | undefined>>;

interface FlagSpec {
  /** The long flag without `--`: `max-batch-rows`; a switch's is `no-…`. */
  readonly flag: string;
  readonly env: string;
  /** What it does, as `--help` and the README say it. */
  readonly doc: string;
  /** Argument placeholder in `--help`. Default: by type. */
  readonly arg?: string;
  /** The default as words, where it is not one value (computed, conditional or applied by a library). */
  readonly defaultText?: string;
}

export interface TextSpec extends FlagSpec {
  readonly type: "text";
  readonly default?: string;
}
export interface IntegerSpec extends FlagSpec {
  readonly type: "integer";
  readonly default?: number | null;
  readonly min?: number;
  readonly max?: number;
  /** A word meaning "none" (`off`, `none`): resolves to null. */
  readonly none?: string;
  /** Shown in KiB/MiB. */
  readonly bytes?: boolean;
}
export interface NumberSpec extends FlagSpec {
  readonly type: "number";
  readonly default?: number;
  /** Bounds; `above` excludes its value. */
  readonly above?: number;
  readonly max?: number;
}
export interface ListSpec extends FlagSpec {
  readonly type: "list";
  readonly default?: readonly string[];
}
export interface ChoiceSpec extends FlagSpec {
  readonly type: "choice";
  readonly choices: readonly string[];
  readonly default?: string;
}
/** `<bool>`: true or false. */
export interface BooleanSpec extends FlagSpec {
  readonly type: "boolean";
  readonly default: boolean;
}
/** `--no-…`: true unless given. */
export interface SwitchSpec extends FlagSpec {
  readonly type: "switch";
  readonly defaultText: string;
}
/**
 * A secret: read from its environment variable or from the file its `file` option names, never
 * from a flag (anyone running `ps` sees flags), and never shown by `--help`.
 */
export interface SecretSpec {
  readonly type: "secret";
  readonly env: string;
  /** What it is ("the SASL password"). */
  readonly doc: string;
  /** The key, in the same table, of the option naming a file that holds it. */
  readonly file: string;
}

export type FlagOptionSpec =
  TextSpec | IntegerSpec | NumberSpec | ListSpec | ChoiceSpec | BooleanSpec | SwitchSpec;
export type OptionSpec = FlagOptionSpec | SecretSpec;

/** Options of one concern, under one `--help` heading. Keys are the library option names they resolve to. */
export interface OptionTable<
  T extends Readonly<Record<string, OptionSpec>> = Readonly<Record<string, OptionSpec>>,
> {
  readonly title: string;
  /** What the reference calls it where the heading is shared ("Kafka connection"). Default: the title. */
  readonly name?: string;
  readonly options: T;
  /** The table this one is a command's variant of (another default or wording). */
  readonly base?: OptionTable;
}

export function optionTable<const T extends Readonly<Record<string, OptionSpec>>>(
  title: string,
  options: T,
  name: string = title,
): OptionTable<T> {
  return { title, name, options };
}

type Widen<D> = D extends number ? number : D extends string ? string : D;
type Change<S> = {
  readonly doc?: string;
  readonly defaultText?: string;
  readonly default?: S extends { readonly default?: infer D } ? Widen<D> | undefined : never;
};
type Changes<T> = { readonly [K in keyof T]?: Change<T[K]> };

/**
 * A command's variant of a table: the same flags and variables with another default or wording
 * (`receive` names its own client id; each command says what its `--group-id` means).
 */
export function adjust<const T extends Readonly<Record<string, OptionSpec>>>(
  table: OptionTable<T>,
  changes: Changes<T>,
): OptionTable<T> {
  const options: Record<string, OptionSpec> = { ...table.options };
  for (const [key, change] of Object.entries(changes))
    options[key] = { ...options[key], ...change } as OptionSpec;
  return { title: table.title, options: options as unknown as T, base: table.base ?? table };
}

/** Some options of a table, under another heading if given. */
export function pick<const T extends Readonly<Record<string, OptionSpec>>, K extends keyof T & string>(
  table: OptionTable<T>,
  keys: readonly K[],
  title: string = table.title,
): OptionTable<Pick<T, K>> {
  const options = Object.fromEntries(keys.map((key) => [key, table.options[key]])) as Pick<T, K>;
  return { title, options, base: table.base ?? table };
}

type ValueOf<S> = S extends IntegerSpec
  ? S extends { readonly none: string }
    ? number | null
    : number
  : S extends NumberSpec
    ? number
    : S extends ListSpec
      ? string[]
      : S extends BooleanSpec | SwitchSpec
        ? boolean
        : string;

/** Any resolved value. */
export type OptionValue = string | number | boolean | string[] | null;

type HasDefault<S> = S extends SwitchSpec | BooleanSpec
  ? true
  : S extends { readonly default: infer D }
    ? undefined extends D
      ? false
      : true
    : false;

type FlagKeys<T> = { [K in keyof T]: T[K] extends SecretSpec ? never : K }[keyof T];

/** Resolved values: given ones parsed and checked, else the table's default (present when there is one). */
export type Values<T extends Readonly<Record<string, OptionSpec>>> = {
  -readonly [K in FlagKeys<T> as HasDefault<T[K]> extends true ? K : never]: ValueOf<T[K]>;
} & {
  -readonly [K in FlagKeys<T> as HasDefault<T[K]> extends true ? never : K]?: ValueOf<T[K]>;
};

const PLACEHOLDER: Readonly<Record<FlagOptionSpec["type"], string>> = {
  text: "<value>",
  integer: "<n>",
  number: "<n>",
  list: "<list>",
  choice: "<value>",
  boolean: "<bool>",
  switch: "",
};

const KiB = 1024;
const MiB = 1024 * KiB;

function shownBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return String(n);
}

/** The default as `--help` and the README show it; undefined when there is none. */
export function shownDefault(spec: FlagOptionSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.type === "switch" || spec.default === undefined) return undefined;
  if (spec.type === "list") return JSON.stringify(spec.default.join(","));
  if (spec.type === "integer" && spec.default === null) return spec.none ?? "none";
  if (spec.type === "integer" && spec.bytes === true) return shownBytes(spec.default as number);
  return typeof spec.default === "string" ? JSON.stringify(spec.default) : String(spec.default);
}

/** `--flag <arg>` as commander takes it. */
export function flagsOf(spec: FlagOptionSpec): string {
  const arg = spec.arg ?? PLACEHOLDER[spec.type];
  return arg === "" ? `--${spec.flag}` : `--${spec.flag} ${arg}`;
}

/** The commander attribute a flag's value is stored under (`--no-migrate` → `migrate`). */
export function attributeOf(spec: FlagOptionSpec): string {
  return new Option(flagsOf(spec)).attributeName();
}

export function commanderOption(spec: FlagOptionSpec): Option {
  const shown = shownDefault(spec);
  const option = new Option(
    flagsOf(spec),
    shown === undefined ? spec.doc : `${spec.doc} (default: ${shown})`,
  );
  if (spec.type === "choice") option.choices(spec.choices);
  if (spec.type === "boolean") option.choices(["true", "false"]);
  return option.env(spec.env);
}

function fileFlagOf(table: OptionTable, secret: SecretSpec): string {
  const file = table.options[secret.file];
  if (file === undefined || file.type === "secret")
    throw new Error(`${secret.env}: no file option ${secret.file}`);
  return `--${file.flag}`;
}

const tablesOfCommand = new WeakMap<Command, OptionTable[]>();

/** The tables added to a command, in order (for the README reference). */
export function tablesOf(command: Command): readonly OptionTable[] {
  return tablesOfCommand.get(command) ?? [];
}

const secretsOf = (table: OptionTable): SecretSpec[] =>
  Object.values(table.options).filter((spec): spec is SecretSpec => spec.type === "secret");

/** The help section naming the secrets a command reads from the environment (never their values). */
function secretsHelp(command: Command): string {
  const lines = tablesOf(command).flatMap((table) =>
    secretsOf(table).map(
      (secret) => `  ${secret.env}   ${secret.doc}, instead of ${fileFlagOf(table, secret)} (env only)`,
    ),
  );
  const heading = "Secrets from the environment only (never a flag, which `ps` would show):";
  return ["", heading, ...new Set(lines)].join("\n");
}

/** Adds a table's options to `command` under its heading (and its secrets to the help's secrets section). */
export function addOptions(command: Command, table: OptionTable): Command {
  command.optionsGroup(`${table.title}:`);
  const secrets = secretsOf(table);
  for (const [key, spec] of Object.entries(table.options)) {
    if (spec.type === "secret") continue;
    const secret = secrets.find((s) => s.file === key);
    const doc = secret === undefined ? spec.doc : `${spec.doc}; or the ${secret.doc} itself in ${secret.env}`;
    command.addOption(commanderOption({ ...spec, doc }));
  }
  const before = tablesOf(command);
  tablesOfCommand.set(command, [...before, table]);
  if (secrets.length > 0 && !before.some((t) => secretsOf(t).length > 0))
    command.addHelpText("after", () => secretsHelp(command));
  return command;
}

/** The flag or the environment variable a value came from, for error messages. */
function origin(spec: FlagOptionSpec, source: string | undefined): string {
  return source === "env" ? spec.env : `--${spec.flag}`;
}

function integerOf(spec: IntegerSpec, text: string, where: string): number | null {
  const trimmed = text.trim();
  if (spec.none !== undefined && trimmed === spec.none) return null;
  const words = spec.none === undefined ? "" : ` or "${spec.none}"`;
  if (!/^-?\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed)))
    throw new ConfigError(`${where}: expected an integer${words}, got ${JSON.stringify(text)}`);
  const value = Number(trimmed);
  if (spec.min !== undefined && value < spec.min)
    throw new ConfigError(`${where}: must be at least ${spec.min}, got ${value}`);
  if (spec.max !== undefined && value > spec.max)
    throw new ConfigError(`${where}: must be at most ${spec.max}, got ${value}`);
  return value;
}

function numberOf(spec: NumberSpec, text: string, where: string): number {
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(value))
    throw new ConfigError(`${where}: expected a number, got ${JSON.stringify(text)}`);
  if (spec.above !== undefined && !(value > spec.above))
    throw new ConfigError(`${where}: must be above ${spec.above}, got ${value}`);
  if (spec.max !== undefined && value > spec.max)
    throw new ConfigError(`${where}: must be at most ${spec.max}, got ${value}`);
  return value;
}

/** `a, b,,c` → `["a", "b", "c"]`. */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** One flag option's value: parsed and bounds-checked when given, else its default (or undefined). */
export function valueOf(
  spec: FlagOptionSpec,
  raw: RawOptions,
  sources: Sources = {},
): OptionValue | undefined {
  const attribute = attributeOf(spec);
  const value = raw[attribute];
  if (spec.type === "switch") return value !== false;
  const fallback = "default" in spec ? (spec.default === undefined ? undefined : spec.default) : undefined;
  if (typeof value !== "string" || value === "")
    return Array.isArray(fallback) ? [...(fallback as readonly string[])] : (fallback as OptionValue);
  const where = origin(spec, sources[attribute]);
  switch (spec.type) {
    case "integer":
      return integerOf(spec, value, where);
    case "number":
      return numberOf(spec, value, where);
    case "list":
      return splitList(value);
    case "boolean":
      if (value !== "true" && value !== "false")
        throw new ConfigError(`${where}: expected true or false, got ${JSON.stringify(value)}`);
      return value === "true";
    case "choice":
      if (!spec.choices.includes(value))
        throw new ConfigError(
          `${where}: expected one of ${spec.choices.join(", ")}, got ${JSON.stringify(value)}`,
        );
      return value;
    default:
      return value;
  }
}

/**
 * A secret from the environment, or the path of the file holding it (the library reads the file).
 * Both given is a contradiction.
 */
export function secretOf(
  table: OptionTable,
  key: string,
  raw: RawOptions,
  env: Environment,
): { readonly value?: string; readonly file?: string } {
  const secret = table.options[key];
  if (secret?.type !== "secret") throw new Error(`${key} is not a secret of ${table.title}`);
  const fileSpec = table.options[secret.file] as FlagOptionSpec;
  const file = valueOf(fileSpec, raw) as string | undefined;
  const value = env[secret.env] || undefined;
  if (value !== undefined && file !== undefined) {
    throw new ConfigError(
      `give the ${secret.doc} either in ${secret.env} or with ${fileFlagOf(table, secret)}, not both`,
    );
  }
  return { ...(value === undefined ? {} : { value }), ...(file === undefined ? {} : { file }) };
}

/** Every flag option of a table, resolved; secrets are read apart with {@link secretOf}. */
export function readOptions<T extends Readonly<Record<string, OptionSpec>>>(
  table: OptionTable<T>,
  raw: RawOptions,
  sources: Sources = {},
): Values<T> {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table.options)) {
    if (spec.type === "secret") continue;
    const value = valueOf(spec, raw, sources);
    if (value !== undefined) values[key] = value;
  }
  return values as Values<T>;
}

/** Where each option's value came from ("cli", "env", "default"), by attribute name. */
export function valueSources(command: Command): Record<string, string | undefined> {
  const sources: Record<string, string | undefined> = {};
  for (const option of command.options) {
    const name = option.attributeName();
    sources[name] = command.getOptionValueSource(name);
  }
  return sources;
}
