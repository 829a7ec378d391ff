import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const INFRA = join(REPO_ROOT, "infra");

/** The deployment artifacts: everything under infra/ except the local Kafka scripts. */
export function deploymentFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const rel = relative(INFRA, path);
      if (rel === "kafka" || rel === "with-kafka.sh" || name === ".local") continue;
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(INFRA);
  return files.sort();
}

export function isYamlFile(path: string): boolean {
  return /\.ya?ml$/.test(path);
}

/** Every document of a YAML file, merge keys (`<<`) resolved; throws on any parse error or warning. */
export function readYamlDocuments(path: string): unknown[] {
  const documents = parseAllDocuments(readFileSync(path, "utf8"), { merge: true, prettyErrors: true });
  const list = Array.isArray(documents) ? documents : [documents];
  const values: unknown[] = [];
  for (const document of list) {
    const problems = [...document.errors, ...document.warnings];
    if (problems.length > 0) {
      throw new Error(`${relative(REPO_ROOT, path)}: ${problems.map((p) => p.message).join("; ")}`);
    }
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) values.push(value);
  }
  return values;
}

/** The single document of a YAML file. */
export function readYaml(path: string): unknown {
  const documents = readYamlDocuments(path);
  if (documents.length !== 1) {
    throw new Error(`${relative(REPO_ROOT, path)}: expected one document, got ${documents.length}`);
  }
  return documents[0];
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8")) as unknown;
}

export function readText(path: string): string {
  return readFileSync(path, "utf8");
}

export function fileExists(path: string): boolean {
  return existsSync(path);
}

/** A plain object, or a failure naming what was expected. */
export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${what}: expected a mapping, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

export function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

export function asString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new Error(`${what}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

/** Follows a path of keys and indexes through parsed YAML/JSON; throws naming the first missing step. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  const walked: (string | number)[] = [];
  for (const step of path) {
    walked.push(step);
    if (typeof step === "number") current = asArray(current, walked.slice(0, -1).join("."))[step];
    else current = asRecord(current, walked.slice(0, -1).join(".") || "document")[step];
    if (current === undefined) throw new Error(`missing ${walked.join(".")}`);
  }
  return current;
}

/** The Kafka version the repository's local broker runs (infra/kafka/pom.xml). */
export function localKafkaVersion(): string {
  const pom = readText(join(INFRA, "kafka", "pom.xml"));
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (version === undefined) throw new Error("infra/kafka/pom.xml names no kafka.version");
  return version;
}
