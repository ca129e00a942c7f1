/** A single byte range `[start, end)`, or why none can be served. */
export type RangeResult = { kind: "full" } | { kind: "partial"; start: number; end: number } | { kind: "unsatisfiable" };

/**
 * Interprets a `Range` header for a resource of `size` bytes (RFC 9110 §14).
 * Multi-range requests get the whole body, which the RFC allows and no client we serve needs.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: "full" };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return { kind: "full" };
  const [, a, b] = m as unknown as [string, string, string];
  if (a === "" && b === "") return { kind: "full" };
  let start: number;
  let end: number;
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0) return { kind: "unsatisfiable" };
    start = Math.max(0, size - suffix);
    end = size;
  } else {
    start = Number(a);
    end = b === "" ? size : Math.min(size, Number(b) + 1);
    if (b !== "" && Number(b) < start) return { kind: "full" };
  }
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end };
}

/** True if an `If-None-Match` header matches the strong ETag. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((t) => {
    const v = t.trim().replace(/^W\//, "");
    return v === "*" || v === etag;
  });
}
