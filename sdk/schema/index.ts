export * from "./common.ts";
export * from "./loras.ts";
export * from "./jobs.ts";
export * from "./keys.ts";
export * from "./blobs.ts";
export * from "./lora-file.ts";
export * from "./model.ts";
