import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "./schema.ts";

/**
 * Any async drizzle SQLite database: libsql on Node, D1 on Workers. The app sees only this.
 * `batch` runs its statements as one transaction on both, and is how multi-row writes are made
 * atomic: an interactive transaction would hold libsql's only connection across awaits.
 */
export type Db = BaseSQLiteDatabase<"async", unknown, typeof schema> & {
  batch<U extends BatchItem<"sqlite">, T extends Readonly<[U, ...U[]]>>(batch: T): Promise<BatchResponse<T>>;
};
