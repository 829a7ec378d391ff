/**
 * C0 and C1 control characters, DEL, and the Unicode bidirectional overrides and isolates: what
 * can move the cursor, recolour, retitle, ring or reorder a terminal's text.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Untrusted text made safe to print on a terminal: every control character shown as an escape (`\x1b`, `\n`). */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** What JSON.stringify leaves raw inside strings (it escapes the C0 controls itself). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** JSON output safe on a terminal too: JSON.stringify leaves DEL, C1 controls and bidi marks raw. */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(
    UNSAFE_IN_JSON,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
