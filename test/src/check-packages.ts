/**
 * `npm run check:packages`: packs every public package (built beforehand) and checks each
 * tarball with publint and are-the-types-wrong. Exits non-zero on the first problem.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { areTheTypesWrong, packPackages, publint } from "./packaging.js";

const dir = mkdtempSync(join(tmpdir(), "tracehouse-check-packages-"));
try {
  const tarballs = await packPackages(dir);
  for (const [name, tarball] of Object.entries(tarballs)) {
    process.stdout.write(`${name}\n${await publint(tarball)}${await areTheTypesWrong(tarball)}\n`);
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
