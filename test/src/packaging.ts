/**
 * The packages as a user gets them: `npm pack` tarballs, linted with publint and
 * are-the-types-wrong, installed with npm into scratch projects outside the workspace, and
 * the README snippets compiled with tsc and run there with plain Node.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./deployment-files.js";

/** The packages published to the registry. */
export const PUBLIC_PACKAGES = [
  "schemas",
  "context",
  "producer",
  "clickhouse",
  "worker",
  "receiver",
  "ui",
  "cli",
] as const;
export type PublicPackage = (typeof PUBLIC_PACKAGES)[number];

/** Package name → absolute path of its tarball. */
export type Tarballs = Readonly<Record<string, string>>;

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs a command to its end (killed at the time-out) and returns its exit code and output. */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs} ms]`;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** {@link run}, throwing with the command's output when it does not exit 0. */
export async function runOk(command: string, args: readonly string[], options: RunOptions): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${[command, ...args].join(" ")} (in ${options.cwd}) exited ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

const bin = (name: string): string => join(REPO_ROOT, "node_modules", ".bin", name);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** `npm pack`s every public package (built beforehand) into `dir`. */
export async function packPackages(dir: string): Promise<Tarballs> {
  mkdirSync(dir, { recursive: true });
  const workspaces = PUBLIC_PACKAGES.flatMap((name) => ["-w", `@tracehouse/${name}`]);
  const out = await runOk(npm, ["pack", "--json", "--pack-destination", dir, ...workspaces], {
    cwd: REPO_ROOT,
    timeoutMs: 60_000,
  });
  const packed = JSON.parse(out) as { name: string; filename: string }[];
  return Object.fromEntries(packed.map((entry) => [entry.name, join(dir, entry.filename)]));
}

const LINT_OPTIONS = { cwd: REPO_ROOT, timeoutMs: 60_000 };

/** publint on one tarball, warnings counted as errors; its report. */
export function publint(tarball: string): Promise<string> {
  return runOk(bin("publint"), ["run", tarball, "--strict"], LINT_OPTIONS);
}

/**
 * are-the-types-wrong on one tarball, ESM-only profile (the packages are ES modules, so
 * `require` from CommonJS is not a goal); its report.
 */
export function areTheTypesWrong(tarball: string): Promise<string> {
  return runOk(
    bin("attw"),
    [tarball, "--profile", "esm-only", "--no-definitely-typed", "--format", "ascii", "--no-color"],
    LINT_OPTIONS,
  );
}

/** The name of a package spec (`name` or `name@range`, scoped or not). */
function specName(spec: string): string {
  const at = spec.indexOf("@", 1);
  return at < 0 ? spec : spec.slice(0, at);
}

/** One package spec of an install line: its name and the version range npm would record. */
function dependencySpec(spec: string, tarballs: Tarballs): [string, string] {
  const name = specName(spec);
  const tarball = tarballs[name];
  if (tarball !== undefined) return [name, `file:${tarball}`];
  return [name, name === spec ? "latest" : spec.slice(name.length + 1)];
}

/**
 * A new npm project in `dir` holding what `npm install <install...>` gives a user; our own
 * packages come from their tarballs, also where another package depends on them (as the
 * registry would serve them), third-party ones from the registry.
 */
export async function installProject(
  dir: string,
  install: readonly string[],
  tarballs: Tarballs,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const overrides = Object.fromEntries(
    Object.entries(tarballs).map(([name, path]) => [name, `file:${path}`]),
  );
  const manifest = {
    name: "scratch-user-project",
    private: true,
    type: "module",
    dependencies: Object.fromEntries(install.map((spec) => dependencySpec(spec, tarballs))),
    overrides,
  };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "es2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        strict: true,
        skipLibCheck: true,
        // the user's own @types/node; the packages' types must resolve from this project
        typeRoots: [join(REPO_ROOT, "node_modules", "@types")],
        types: ["node"],
      },
      include: ["*.ts"],
    }),
  );
  await runOk(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline"], {
    cwd: dir,
    timeoutMs: 180_000,
  });
}

/** Writes `code` as `<name>.ts` in the project, type-checks and compiles it with tsc, runs it with node. */
export async function compileAndRun(
  dir: string,
  name: string,
  code: string,
  timeoutMs = 60_000,
): Promise<RunResult> {
  writeFileSync(join(dir, `${name}.ts`), code);
  await runOk(process.execPath, [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "."], {
    cwd: dir,
    timeoutMs: 60_000,
  });
  return run(process.execPath, [`${name}.js`], { cwd: dir, timeoutMs });
}

export interface ReadmeSnippet {
  /** The package specs of the section's `npm install` line (`name` or `name@range`). */
  readonly install: readonly string[];
  /** The package names of the install line. */
  readonly installed: readonly string[];
  /** The section's first TypeScript block. */
  readonly code: string;
  /** The packages the code imports. */
  readonly imports: readonly string[];
}

function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

/** The install line and TypeScript snippet of the section under `heading` in a README. */
export function readmeSnippet(readme: string, heading: string): ReadmeSnippet {
  const text = readFileSync(join(REPO_ROOT, readme), "utf8");
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${readme} has no section ${heading}`);
  const level = heading.split(" ")[0] as string;
  const end = text.indexOf(`\n${level} `, start + heading.length + 2);
  const section = text.slice(start, end < 0 ? text.length : end);
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, lang, body]) => ({
    lang: lang as string,
    body: body as string,
  }));
  const installLine = blocks
    .filter((block) => block.lang === "sh" || block.lang === "bash")
    .flatMap((block) => block.body.split("\n"))
    .find((line) => line.trim().startsWith("npm install "));
  const code = blocks.find((block) => block.lang === "ts")?.body;
  if (installLine === undefined || code === undefined)
    throw new Error(`${readme} ${heading}: expected an npm install line and a ts block`);
  const install = installLine
    .trim()
    .split(/\s+/)
    .slice(2)
    .filter((word) => !word.startsWith("-"));
  const imports = [
    ...new Set([...code.matchAll(/from "([^"]+)"/g)].map(([, from]) => packageOf(from as string))),
  ];
  return { install, installed: install.map(specName), code, imports };
}

/** `code` with `from` replaced by `to`; throws when `from` does not occur exactly once. */
export function replaceOnce(code: string, from: string, to: string): string {
  const first = code.indexOf(from);
  if (first < 0 || code.indexOf(from, first + 1) >= 0)
    throw new Error(`expected ${JSON.stringify(from)} exactly once in the snippet`);
  return code.slice(0, first) + to + code.slice(first + from.length);
}
