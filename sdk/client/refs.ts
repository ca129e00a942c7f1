import { LoraRef } from "../schema/index.ts";
import { MotionLoraError } from "./errors.ts";

export interface ParsedRef {
  owner: string;
  name: string;
  version: number | "latest";
}

/** `owner/name[@version]` → its parts; a clear error names what is wrong. */
export function parseRef(ref: string): ParsedRef {
  const ok = LoraRef.safeParse(ref);
  if (!ok.success) throw new MotionLoraError(`'${ref}' ${ok.error.issues[0]?.message}`, "invalid_ref");
  const [path, version] = ref.split("@") as [string, string | undefined];
  const [owner, name] = path.split("/") as [string, string];
  return { owner, name, version: version ? Number(version) : "latest" };
}

export const loraPath = (r: { owner: string; name: string }) => `/v1/loras/${r.owner}/${r.name}`;
