/** SHA-256 as lowercase hex, with Web Crypto (Node ≥ 20, browsers, Deno, Workers alike). */
export async function sha256Hex(data: Uint8Array | Blob): Promise<string> {
  const buf = data instanceof Uint8Array ? data : new Uint8Array(await data.arrayBuffer());
  const digest = await crypto.subtle.digest("SHA-256", buf as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
