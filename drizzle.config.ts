import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./registry/db/schema.ts",
  out: "./registry/db/migrations",
});
