export {
  ErrorCode,
  TracehouseError,
  NonRetriableError,
  ConfigError,
  isTracehouseError,
  isRetriable,
} from "./errors.js";
export type { TracehouseErrorOptions } from "./errors.js";
