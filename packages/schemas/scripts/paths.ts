import { fileURLToPath } from "node:url";

export const schemasDir = fileURLToPath(new URL("../../../schemas/", import.meta.url));
export const generatedModulePath = fileURLToPath(
  new URL("../src/internal/schemas.generated.ts", import.meta.url),
);
export const goldenDir = fileURLToPath(new URL("../test/fixtures/golden/", import.meta.url));
