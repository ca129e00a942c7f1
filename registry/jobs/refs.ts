/** Splits `owner/name@3` into its parts. */
export function splitRef(ref: string): { owner: string; name: string; version: number | "latest" } {
  const [path, v] = ref.split("@") as [string, string | undefined];
  const [owner, name] = path.split("/") as [string, string];
  return { owner, name, version: v === undefined ? "latest" : Number(v) };
}
