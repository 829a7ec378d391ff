import { buildRegistry } from "./registry.js";
import { SCHEMA_FILES } from "./schemas.generated.js";

/** The registry of every schema version shipped in this package, built once at load. */
export const registry = buildRegistry(SCHEMA_FILES);
