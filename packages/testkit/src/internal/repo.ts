import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The monorepo root: the nearest ancestor holding infra/kafka/start.sh. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "infra", "kafka", "start.sh"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("testkit: cannot find the repository root (infra/kafka/start.sh)");
    dir = parent;
  }
}
