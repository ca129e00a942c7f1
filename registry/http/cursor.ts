import { ApiError } from "./errors.ts";

/** Opaque cursors: base64url JSON of the last row's sort key and id. */
export function encodeCursor(sortValue: number, id: string): string {
  return btoa(JSON.stringify([sortValue, id])).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): [number, string] {
  try {
    const v: unknown = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "string") return [v[0], v[1]];
  } catch {
    // fall through to the error below
  }
  throw new ApiError("validation_failed", "'cursor' is not a cursor this API returned; pass next_cursor from the previous page");
}
