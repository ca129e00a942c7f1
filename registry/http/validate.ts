import type { Context } from "hono";
import * as z from "zod";
import { RegistryError } from "./errors.ts";

function issues(error: z.ZodError) {
  return error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

function describe(where: string, error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return `invalid ${where}`;
  if (first.code === "unrecognized_keys") return `${where} has unknown field(s): ${first.keys.join(", ")}`;
  const path = first.path.length ? `'${first.path.join(".")}'` : where;
  return `${path} ${first.message}`.replace(/^'(.+?)' Invalid input/, "'$1' is invalid");
}

/** Parses a value against a schema, or throws a 422 that names the first bad field. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new RegistryError("validation_failed", describe(where, r.error), { issues: issues(r.error) });
  return r.data;
}

/** Reads a JSON request body and validates it. */
export async function jsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  const text = new TextDecoder().decode(await readCapped(c.req.raw, MAX_JSON_BYTES));
  let value: unknown;
  try {
    value = text.length === 0 ? {} : JSON.parse(text);
  } catch (e) {
    throw new RegistryError("invalid_json", `request body is not valid JSON: ${(e as Error).message}`);
  }
  return parseWith(schema, value, "request body");
}

const MAX_JSON_BYTES = 1 << 20;

/** Reads a whole request body, refusing (413) before buffering more than `max` bytes. */
export async function readCapped(req: Request, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (declared > max) throw new RegistryError("payload_too_large", `request body is ${declared} bytes; the limit is ${max}`);
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw new RegistryError("payload_too_large", `request body exceeds the ${max}-byte limit`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Validates the query string (each parameter once). */
export function query<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  return parseWith(schema, c.req.query(), "query");
}

/** Validates one path parameter. */
export function param<T extends z.ZodType>(c: Context, name: string, schema: T): z.output<T> {
  return parseWith(schema, c.req.param(name), `path parameter '${name}'`);
}

const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,255}$/, "must be 1–255 visible ASCII characters");

/** The request's Idempotency-Key header (job creation, publishing a version), checked; undefined when absent. */
export function idempotencyKey(c: Context): string | undefined {
  const header = c.req.header("idempotency-key");
  if (header === undefined) return undefined;
  const key = IdempotencyKey.safeParse(header);
  if (!key.success) throw new RegistryError("validation_failed", `Idempotency-Key ${key.error.issues[0]?.message}`);
  return key.data;
}
