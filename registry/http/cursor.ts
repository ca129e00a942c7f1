import { RegistryError } from "./errors.ts";

/** Opaque cursors: base64url JSON of the last row's sort key and id. */
export function encodeCursor(sortValue: number, id: string): string {
  return btoa(JSON.stringify([sortValue, id]))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export function decodeCursor(cursor: string): [number, string] {
  try {
    const v: unknown = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    // Every sort key is an integer (ms, a count, a version number): 1e999 parses to Infinity, which
    // the database cannot bind, and a forged cursor must be a 422, never a 500.
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === "string" && v[1].length <= 64) return [v[0] as number, v[1]];
  } catch {
    // fall through to the error below
  }
  throw new RegistryError("validation_failed", "'cursor' is not a cursor this API returned; pass next_cursor from the previous page");
}
