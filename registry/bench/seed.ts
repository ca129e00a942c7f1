import type { Services } from "../context.ts";

/** The load benchmark's catalog: 200 public LoRAs across the four categories, the same on every target. */
export async function seedCatalog(s: Services): Promise<void> {
  const p = { keyId: "bench", owner: "bench", scopes: ["admin" as const], rateLimitPerMinute: 1e9 };
  for (let i = 0; i < 200; i++) {
    await s.loras.create(p, {
      name: `motion-${i}`,
      title: `Motion ${i} ${["orbit", "zigzag", "pan", "walk"][i % 4]}`,
      description: "benchmark fixture",
      readme: "",
      category: (["single-object", "multiple-objects", "camera-motion", "human-motion"] as const)[i % 4]!,
      tags: ["bench", `t${i % 10}`],
      license: "cc-by-4.0",
      visibility: "public",
    });
  }
}
