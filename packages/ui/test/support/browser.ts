import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";

const INSTALL = fileURLToPath(new URL("../../../../infra/chromium/install.sh", import.meta.url));

/** Debian's Chromium, installed by the project's script when missing. */
export function chromiumPath(): string {
  const run = spawnSync("bash", [INSTALL], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (run.status !== 0) throw new Error(`infra/chromium/install.sh exited ${run.status}`);
  return run.stdout.trim().split("\n").pop()!;
}

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS });
}

/** Screenshots go here (git-ignored). */
export const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
