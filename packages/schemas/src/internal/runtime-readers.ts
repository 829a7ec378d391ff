import type { VersionReader } from "./registry.js";
import type { WriterSchema } from "../writer-schemas.js";

export interface RuntimeReader {
  readonly schema: WriterSchema;
  readonly reader: VersionReader;
}

/** Writer schemas registered at run time, by fingerprint (hex); the shipped ones are in the registry. */
const byFingerprint = new Map<string, RuntimeReader>();

export function addRuntimeReader(entry: RuntimeReader): void {
  byFingerprint.set(entry.schema.fingerprint, entry);
}

export function runtimeReaderOf(fingerprint: string): RuntimeReader | undefined {
  return byFingerprint.get(fingerprint);
}

export function runtimeReaderCount(): number {
  return byFingerprint.size;
}
