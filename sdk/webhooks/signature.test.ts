import assert from "node:assert/strict";
import { it } from "node:test";
import { Webhook } from "standardwebhooks";
import { newWebhookSecret, signPayload, verifyWebhook } from "./signature.ts";

const body = JSON.stringify({ type: "job.completed", job: { id: "job_1", status: "succeeded" } });

it("signs as the Standard Webhooks reference package verifies, and verifies what it signs", async () => {
  const secret = newWebhookSecret();
  const theirs = new Webhook(secret);
  const ours = await signPayload(secret, "msg_1", body);
  assert.doesNotThrow(() => theirs.verify(body, ours));
  const at = new Date();
  const signature = theirs.sign("msg_2", at, body);
  const headers = new Headers({ "webhook-id": "msg_2", "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signature });
  assert.ok(await verifyWebhook(secret, headers, body));
  assert.equal(await verifyWebhook(newWebhookSecret(), headers, body), false, "another secret does not verify");
});

it("keeps verifying secrets made before the spec's base64 form (whsec_ + base32 text)", async () => {
  const legacy = "whsec_abcdefghijklmnopqrstuvwxyz234567abc";
  const headers = new Headers(await signPayload(legacy, "msg_3", body));
  assert.ok(await verifyWebhook(legacy, headers, body));
  assert.equal(await verifyWebhook("whsec_abcdefghijklmnopqrstuvwxyz234567abd", headers, body), false);
});
