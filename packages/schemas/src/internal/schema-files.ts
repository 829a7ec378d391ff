/** One `.avsc` file: its name (`<record type>.v<version>.avsc`) and exact text. */
export interface SchemaFile {
  readonly file: string;
  readonly source: string;
}

export interface SchemaFileName {
  readonly recordType: string;
  readonly version: number;
}

const FILE_NAME = /^([a-z][a-z0-9_]*)\.v([1-9][0-9]{0,5})\.avsc$/;

export function parseSchemaFileName(file: string): SchemaFileName | null {
  const match = FILE_NAME.exec(file);
  if (match === null) return null;
  return { recordType: match[1]!, version: Number(match[2]) };
}
