import { and, eq, isNull, or, type SQL } from "drizzle-orm";
import { hasScope, type Principal } from "../auth/keys.ts";
import { loras } from "../db/schema.ts";

/** LoRAs visible to `p`: public and not deleted, or its own and not deleted; admins see all live ones. */
export function visibleTo(p: Principal): SQL {
  const publicLive = and(eq(loras.visibility, "public"), isNull(loras.deletedAt))!;
  if (hasScope(p, "admin")) return isNull(loras.deletedAt);
  if (p.owner === null) return publicLive;
  return or(publicLive, and(eq(loras.owner, p.owner), isNull(loras.deletedAt)))!;
}
