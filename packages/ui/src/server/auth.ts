import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ConfigError } from "@tracehouse/schemas";

/** Who may read: anyone (the default, for 127.0.0.1), a bearer token, or a basic-auth user. */
export type UiAuth =
  | { readonly kind: "none" }
  | { readonly kind: "bearer"; readonly token: string }
  | { readonly kind: "basic"; readonly user: string; readonly password: string };

const same = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** Parses `bearer:<token>` or `basic:<user>:<password>`; undefined or "" means none. */
export function parseAuth(text: string | undefined): UiAuth {
  if (text === undefined || text === "" || text === "none") return { kind: "none" };
  if (text.startsWith("bearer:") && text.length > "bearer:".length)
    return { kind: "bearer", token: text.slice("bearer:".length) };
  const basic = /^basic:([^:]+):(.+)$/.exec(text);
  if (basic !== null) return { kind: "basic", user: basic[1]!, password: basic[2]! };
  throw new ConfigError('auth must be "bearer:<token>" or "basic:<user>:<password>"');
}

/** True when the request carries the credentials `auth` asks for. */
export function authorized(auth: UiAuth, request: IncomingMessage): boolean {
  if (auth.kind === "none") return true;
  const header = request.headers.authorization ?? "";
  if (auth.kind === "bearer") return header.startsWith("Bearer ") && same(header.slice(7), auth.token);
  if (!header.startsWith("Basic ")) return false;
  return same(Buffer.from(header.slice(6), "base64").toString("utf8"), `${auth.user}:${auth.password}`);
}
