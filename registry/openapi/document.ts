import * as z from "zod";
import { ErrorBody } from "../../sdk/schema/index.ts";
import type { Operation } from "./api.ts";
import { describeJobErrors } from "./job-errors.ts";

const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  // OpenAPI 3.1 uses JSON Schema 2020-12 as is; drop the per-schema $schema marker.
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

/** The registry's limits, as the OpenAPI document states them (`info.x-limits` and the description). */
export interface ApiLimits {
  blobBytes: Record<string, number>;
  ownerQuotaBytes: number | null;
  loraHeaderBytes: number;
  loraTensors: number;
  loraMetadataBytes: number;
  baseModel: { id: string; sha256: string; depth: number; dim: number; projections: string[]; maxRank: number };
  failedAuthPerMinute: number;
  failedAuthPerAddressPerMinute: number;
  webhooks: { timeoutMs: number; connectTimeoutMs: number; perTenantConcurrency: number; maxAttempts: number };
}

function describeLimits(l: ApiLimits): string {
  const model = l.baseModel;
  return [
    `Limits: blobs at most ${Object.entries(l.blobBytes)
      .map(([k, v]) => `${k} ${v} bytes`)
      .join(", ")}` +
      (l.ownerQuotaBytes === null ? "" : `; ${l.ownerQuotaBytes} bytes uploaded per owner (413 quota_exceeded; runner keys are exempt)`) +
      ".",
    `A LoRA file's safetensors header is at most ${l.loraHeaderBytes} bytes with at most ${l.loraTensors} tensors and a __metadata__ block of at most ${l.loraMetadataBytes} bytes (422 invalid_safetensors).`,
    `Versions are published only for base model ${model.id} (sha256 ${model.sha256}): tensors named base_model.model.blocks.{0..${model.depth - 1}}.attn.{${model.projections.join(",")}}.lora_{A,B}.weight, ` +
      `F32 of [rank, ${model.dim}] and [${model.dim}, rank], rank ≤ ${model.maxRank}, finite values (422 invalid_lora_tensors, base_model_mismatch).`,
    "Prompts use the model's vocabulary only (422 unknown_word at job creation), in the word order of its grammar (GET /v1/model; 422 prompt_does_not_fit names the word and what fits there). Publishing needs read access to every blob named; an unreadable blob is blob_missing.",
    `Failed authentications: ${l.failedAuthPerMinute} a minute per key prefix and client address, ${l.failedAuthPerAddressPerMinute} a minute per address, then 429 for the failing requests only (a valid key is always served). Webhooks: public addresses only, connect timeout ${l.webhooks.connectTimeoutMs} ms, ` +
      `answer timeout ${l.webhooks.timeoutMs} ms, ${l.webhooks.perTenantConcurrency} in flight per owner, ${l.webhooks.maxAttempts} attempts.`,
  ].join(" ");
}

/** Builds the OpenAPI 3.1 document from the registered operations and their zod schemas. */
export function openApiDocument(operations: Operation[], version: string, limits?: ApiLimits) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const parameters: unknown[] = [];
    for (const [name, description] of Object.entries(op.params ?? {})) {
      parameters.push({ name, in: "path", required: true, description, schema: { type: "string" } });
    }
    if (op.query) {
      const q = jsonSchema(op.query, "input") as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        parameters.push({ name, in: "query", required: q.required?.includes(name) ?? false, schema });
      }
    }
    for (const [name, description] of Object.entries(op.headers ?? {})) {
      parameters.push({ name, in: "header", required: false, description, schema: { type: "string" } });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      const contentType = r.contentType ?? "application/json";
      responses[status] = {
        description: r.description,
        ...(r.schema
          ? { content: { [contentType]: { schema: jsonSchema(r.schema, "output") } } }
          : r.contentType
            ? { content: { [contentType]: { schema: { type: "string", contentMediaType: r.contentType } } } }
            : {}),
      };
    }
    responses.default = { description: "an error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
    const operation: Record<string, unknown> = {
      operationId: `${op.method}${toOpenApiPath(op.path)
        .replace(/[{}]/g, "")
        .replace(/\/(\w)/g, (_, ch: string) => ch.toUpperCase())
        .replace(/[^A-Za-z0-9]/g, "")}`,
      summary: op.summary,
      tags: [op.tag],
      security: op.scope === "public" ? [{}, { apiKey: [] }] : [{ apiKey: [] }],
      "x-scope": op.scope,
      parameters,
      responses,
    };
    if (op.body) operation.requestBody = { required: true, content: { "application/json": { schema: jsonSchema(op.body, "input") } } };
    if (op.binaryBody) {
      operation.requestBody = {
        required: true,
        description: op.binaryBody.description,
        content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } },
      };
    }
    const path = toOpenApiPath(op.path);
    paths[path] ??= {};
    paths[path][op.method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "motion-lora registry",
      version,
      description:
        "Catalog, share and download motion LoRAs (Follow-Your-Motion), and queue tune/generate jobs for runners." +
        (limits ? `\n\n${describeLimits(limits)}` : "") +
        `\n\n${describeJobErrors()}`,
      ...(limits ? { "x-limits": limits } : {}),
    },
    servers: [{ url: "/" }],
    paths,
    components: {
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "an API key: mlk_…" } },
      schemas: { Error: jsonSchema(ErrorBody, "output") },
    },
  };
}
