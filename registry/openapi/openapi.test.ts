import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { JobErrorCode } from "../../sdk/schema/index.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

describe("OpenAPI document and docs page", () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  it("serves an OpenAPI 3.1 document that validates against the official schema", async () => {
    const res = await r.call("GET", "/openapi.json");
    assert.equal(res.body.openapi, "3.1.0");
    const validator = new Validator();
    const result = await validator.validate(res.body);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
  });

  it("describes every route with its schemas, generated from the zod contract", async () => {
    const doc = (await r.call("GET", "/openapi.json")).body;
    const create = doc.paths["/v1/loras"].post;
    assert.deepEqual(create.requestBody.content["application/json"].schema.required.sort(), ["category", "name", "title"]);
    assert.equal(create.requestBody.content["application/json"].schema.additionalProperties, false);
    assert.ok(doc.paths["/v1/jobs/{id}/events"].get);
    assert.ok(doc.paths["/v1/blobs/{sha256}"].put.requestBody.content["application/octet-stream"]);
    const ids = Object.values(doc.paths).flatMap((p) => Object.values(p as Record<string, { operationId: string }>).map((o) => o.operationId));
    assert.equal(new Set(ids).size, ids.length, "operationIds are unique");
  });

  it("states the limits and the error codes of the hardened registry", async () => {
    const doc = (await r.call("GET", "/openapi.json")).body;
    const codes = doc.components.schemas.Error.properties.error.properties.code.enum as string[];
    for (const code of ["unknown_word", "invalid_lora_tensors", "base_model_mismatch", "quota_exceeded", "blob_missing"]) assert.ok(codes.includes(code), code);
    const limits = doc.info["x-limits"];
    assert.deepEqual([limits.loraHeaderBytes, limits.loraTensors, limits.loraMetadataBytes], [98_304, 48, 65_536]);
    assert.deepEqual([limits.baseModel.id, limits.baseModel.depth, limits.baseModel.dim, limits.baseModel.maxRank], ["fym-tiny-dit", 6, 192, 8]);
    assert.match(doc.info.description, /at most 48 tensors and a __metadata__ block of at most 65536 bytes/);
    assert.ok(doc.paths["/v1/loras/{owner}/{name}/versions"].get.parameters.some((p: { name: string }) => p.name === "include"));
    assert.ok(
      doc.paths["/v1/jobs"].post.requestBody.content["application/json"].schema.oneOf.some(
        (k: { properties: { input: { properties: Record<string, unknown> } } }) => "create" in k.properties.input.properties,
      ),
    );
  });

  it("lists the job error codes in the Job schema and says in the description what each asks of the user", async () => {
    const doc = (await r.call("GET", "/openapi.json")).body;
    const job = doc.paths["/v1/jobs/{id}"].get.responses["200"].content["application/json"].schema;
    // A code is one of the enum's, or (from a newer registry) a string an older client still accepts.
    const code = job.properties.error.anyOf.find((s: { type?: string }) => s.type === "object").properties.code.anyOf as { enum?: string[]; type?: string }[];
    const codes = code.find((c) => c.enum)!.enum!;
    assert.deepEqual(codes, JobErrorCode.options);
    assert.ok(code.some((c) => c.type === "string" && !c.enum));
    for (const c of codes) assert.match(doc.info.description, new RegExp(`\\| \`${c}\` \\| (yes|no) \\| \\w`), c);
  });

  it("serves a readable API reference as plain HTML at /docs/text", async () => {
    const res = await fetch(`${r.url}/docs/text`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<code>\/v1\/loras\/\{owner\}\/\{name\}\/versions<\/code>/);
    assert.match(html, /Publish an immutable version/);
  });

  it("answers /healthz", async () => {
    const res = await r.call("GET", "/healthz");
    assert.deepEqual(res.body, { ok: true, version: "1.0.0" });
  });

  it("answers unknown routes with the JSON error shape", async () => {
    const res = await r.call("GET", "/v2/nothing");
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, "not_found");
    assert.equal(typeof res.body.error.requestId, "string");
  });
});
