import * as z from "zod";
import { BlobKind } from "./blobs.ts";
import { Sha256, Text, Timestamp } from "./common.ts";
import { LoraCreate, MAX_SAMPLES, ScoredSample } from "./loras.ts";

/** `owner/name` or `owner/name@version`: how people name a LoRA (version) in jobs and the CLI. */
export const LoraRef = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\/[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:@[1-9][0-9]*)?$/, "must be 'owner/name' or 'owner/name@version'");

export const Prompt = Text(500)
  .min(1, "must not be empty")
  .describe(
    "words of the base model's vocabulary in its grammar's order (`motion-lora vocab` shows both); refused with 422 unknown_word or prompt_does_not_fit",
  );

/** A sampling or tuning seed: what the runner's generators take (a non-negative 32-bit int). */
const Seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

export const TuneOptions = z
  .strictObject({
    spatial_steps: z.number().int().min(1).max(10_000).optional(),
    temporal_steps: z.number().int().min(1).max(10_000).optional(),
    rank: z.number().int().min(1).max(64).optional(),
    learning_rate: z.number().positive().max(1).optional(),
    sampling: z
      .enum(["dense", "strided", "random"])
      .optional()
      .describe(
        "frames of the temporal stage: every frame (the default, most motion), or a sparse subset each step (strided/random: faster, carries less motion)",
      ),
    sparse_frames: z.number().int().min(1).max(256).optional().describe("frames per sparse step; implies sampling 'strided' when sampling is not given"),
    motion_loss_weight: z.number().min(0).max(100).optional(),
    seed: Seed.optional(),
    sample_steps: z
      .number()
      .int()
      .min(0)
      .max(100)
      .optional()
      .describe(
        "sampling steps of each transfer sample made after tuning (the caption with new colours, shapes, sizes and backgrounds, scored by motion fidelity; the runner's --samples says how many, default 3); default 20, 0 for none",
      ),
  })
  .refine((o) => !(o.sampling === "dense" && o.sparse_frames !== undefined), {
    path: ["sparse_frames"],
    message: "applies to sparse sampling only; set sampling to 'strided' or 'random', or leave sparse_frames out",
  });

/** The runner's recipes (gpu-runner/fym/recipes/, one file each; a test holds this list to the files). */
export const RecipeName = z
  .enum([
    "default",
    "default-batched",
    "decoupled-dense",
    "naive-two-stage",
    "naive-aug",
    "fym-sparse",
    "fym-sparse-no-adaptive-rope",
    "fym-sparse-no-decoupling",
    "fym-sparse8-centred",
  ])
  .describe(
    "the recipe to tune with (default: 'default', the most motion measured, in the form the runner's engine trains fastest); `options` override its values. fym-sparse is Follow-Your-Motion's own sparse stage 2: fast, and weak in this model",
  );
export type RecipeName = z.infer<typeof RecipeName>;

export const TuneInput = z.strictObject({
  video_sha256: Sha256.describe("the reference clip, uploaded as a blob of kind 'video'"),
  prompt: Prompt.describe("a caption of the reference clip in the model's vocabulary"),
  lora: LoraRef.describe("the LoRA (owner/name, yours) that receives the result as a new version"),
  create: LoraCreate.omit({ name: true, owner: true })
    .optional()
    .describe("when the LoRA does not exist yet: create it with these fields together with its first version, so a job that fails leaves no empty LoRA"),
  recipe: RecipeName.optional(),
  options: TuneOptions.default({}),
});
export type TuneInput = z.infer<typeof TuneInput>;

export const GenerateOptions = z.strictObject({
  steps: z.number().int().min(1).max(200).optional(),
  guidance: z.number().min(0).max(30).optional(),
  seed: Seed.optional(),
});

export const GenerateInput = z.strictObject({
  prompt: Prompt,
  loras: z
    .array(
      z.strictObject({
        ref: LoraRef,
        weight: z.number().min(-4).max(4).default(1),
        until: z
          .number()
          .gt(0)
          .max(1)
          .optional()
          .describe(
            "the share of sampling steps, from pure noise, the LoRA applies for (default: the LoRA's own recommendation, its tuning_config.applyUntil, else 1)",
          ),
      }),
    )
    .max(4)
    .default([]),
  options: GenerateOptions.default({}),
});
export type GenerateInput = z.infer<typeof GenerateInput>;

export const JobKind = z.enum(["tune", "generate"]);
export type JobKind = z.infer<typeof JobKind>;
export const JobStatus = z.enum(["queued", "running", "succeeded", "failed", "canceled"]);
export type JobStatus = z.infer<typeof JobStatus>;

/** Which job changes are POSTed to a job's webhook: running, progress reports, and the end (any outcome). */
export const WebhookEvent = z.enum(["start", "progress", "completed"]);
export type WebhookEvent = z.infer<typeof WebhookEvent>;

const webhookFields = {
  webhook: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .max(2_000)
    .optional()
    .describe("POSTed the job (signed: webhook-id, webhook-timestamp, webhook-signature headers) on the filtered events"),
  webhook_events_filter: z.array(WebhookEvent).min(1).default(["start", "progress", "completed"]),
};

export const JobCreate = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("tune"), input: TuneInput, ...webhookFields }),
  z.strictObject({ kind: z.literal("generate"), input: GenerateInput, ...webhookFields }),
]);
export type JobCreate = z.infer<typeof JobCreate>;

/** A LoRA version a generate job was pinned to when it was created. */
export const ResolvedLora = z.object({
  ref: z.string(),
  version_id: z.string(),
  file_sha256: Sha256,
  weight: z.number(),
  until: z.number().optional(),
});

/** Job error codes about the job's input: final (retrying cannot help); fix the input and create a new job. */
const INPUT_ERROR_CODES = [
  "invalid_video",
  "invalid_lora",
  "invalid_lora_file",
  "base_model_mismatch",
  "too_many_loras",
  "unsupported_option",
  "unknown_word",
] as const;

/** The runner's and the registry's codes: the job was retried up to `max_attempts` before it failed with one. */
const SYSTEM_ERROR_CODES = [
  // the runner's side
  "artifact_missing",
  "artifact_corrupt",
  "manifest_invalid",
  "provider_unavailable",
  "torch_unavailable",
  "engine_crashed",
  "engine_error",
  "runner_stopped",
  "runner_error",
  // the registry's side
  "lease_expired",
] as const;

export const JobInputErrorCode = z.enum(INPUT_ERROR_CODES);
export type JobInputErrorCode = z.infer<typeof JobInputErrorCode>;

/** Why a job failed: a stable code to switch on (the message is for people). */
export const JobErrorCode = z
  .enum([...INPUT_ERROR_CODES, ...SYSTEM_ERROR_CODES])
  .describe("why the job failed; the API description lists what each code asks of you");
export type JobErrorCode = z.infer<typeof JobErrorCode>;

/** A job's failure as the API returns it. A code this SDK does not know yet (a newer registry's) still parses. */
export const JobError = z.object({
  code: z.union([JobErrorCode, z.string().max(64)]),
  message: z.string().max(4_000),
});
export type JobError = z.infer<typeof JobError>;

/**
 * A failure as a runner reports it. The registry keeps a JobErrorCode as it is and files any other
 * code under runner_error, the runner's own code kept in the message: a failure is never refused.
 */
export const ReportedJobError = z.object({
  code: z.string().min(1).max(64),
  message: z.string().max(4_000),
});
export type ReportedJobError = z.infer<typeof ReportedJobError>;

/** A blob a job result names, with the kind it is stored as (the `kind` its upload answered with). */
export const ResultBlob = z.strictObject({ sha256: Sha256, kind: BlobKind });
export type ResultBlob = z.infer<typeof ResultBlob>;

const resultBlobs = z
  .array(ResultBlob)
  .min(1)
  .max(16)
  .refine((bs) => new Set(bs.map((b) => b.sha256)).size === bs.length, "must name each blob once")
  .describe(
    "every blob the result names (and any other it uploaded), each with the kind it is stored as; " +
      "a hash field not listed here, or a kind other than the stored blob's, is refused with 422 validation_failed",
  );

export const TuneResult = z.strictObject({
  lora_sha256: Sha256.describe("the motion (temporal) LoRA file, a blob of kind 'lora'; published as the LoRA's new version"),
  spatial_lora_sha256: Sha256.optional().describe("the spatial (appearance) LoRA file"),
  preview_sha256: Sha256.optional().describe("a GIF of the reference clip, a blob of kind 'preview'; becomes the version's preview"),
  heads_preview_sha256: Sha256.optional().describe("the head classification as a heat-map PNG (blocks × heads)"),
  samples: z
    .array(ScoredSample)
    .max(MAX_SAMPLES)
    .optional()
    .describe("clips generated with the new LoRA for other prompts, each with its motion fidelity to the reference; published with the version"),
  blobs: resultBlobs,
  metrics: z.record(z.string(), z.number()).default({}),
});
export type TuneResult = z.infer<typeof TuneResult>;
export const GenerateResult = z.strictObject({
  video_sha256: Sha256.describe("the generated clip"),
  preview_sha256: Sha256.optional(),
  blobs: resultBlobs,
  metrics: z.record(z.string(), z.number()).default({}),
});
export type GenerateResult = z.infer<typeof GenerateResult>;

/**
 * How a registry gets a runner when jobs wait and none is connected: `local`, it starts one on its
 * own machine (`registry start`'s default, `--runner local`); `webhook`, it asks a container platform
 * to start one ("runner.needed": `--runner webhook`, or a Worker's RUNNER_WEBHOOK_URL).
 */
export const RunnerOnDemand = z.enum(["local", "webhook"]);
export type RunnerOnDemand = z.infer<typeof RunnerOnDemand>;

/** Where a queued job stands, as fal's IN_QUEUE with its position: its place in line and whether anything will run it. */
export const QueueState = z.object({
  position: z
    .number()
    .int()
    .min(1)
    .describe("1: the next job a runner claims. Owners take turns (each owner's oldest job first), so beyond the next round it is an estimate"),
  runners: z
    .number()
    .int()
    .min(0)
    .describe(
      "runners connected now (asked for work in the last 15 s or holding a lease); 0: none yet, and `runner_on_demand` says whether the registry starts one",
    ),
  runner_on_demand: RunnerOnDemand.nullable()
    .default(null)
    .describe(
      "how this registry gets a runner while none is connected: `local`, it starts one on its own machine (a CPU runner, ready in seconds); " +
        '`webhook`, it has asked a container platform to start one ("runner.needed"), which takes as long as the platform does; ' +
        "null, it starts none: the job waits until someone starts one (`npx motion-lora runner start` in a clone of the motion-lora repository)",
    ),
});
export type QueueState = z.infer<typeof QueueState>;

export const Job = z.object({
  id: z.string(),
  kind: JobKind,
  status: JobStatus,
  owner: z.string(),
  input: z.record(z.string(), z.unknown()),
  resolved_loras: z.array(ResolvedLora),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: JobError.nullable(),
  progress: z.number().min(0).max(1),
  stage: z.string().nullable(),
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  version_id: z.string().nullable().describe("for a succeeded tune job, the LoRA version it published"),
  queue: QueueState.nullable()
    .optional()
    .describe("while the job is queued: its place in line, the runners connected and whether the registry starts one; null otherwise"),
  webhook: z.string().nullable(),
  webhook_events_filter: z.array(WebhookEvent),
  created_at: Timestamp,
  started_at: Timestamp.nullable(),
  finished_at: Timestamp.nullable(),
  updated_at: Timestamp,
});
export type Job = z.infer<typeof Job>;

export const JobListQuery = z.strictObject({
  status: JobStatus.optional(),
  kind: JobKind.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

export const RunnerId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, "must be 1–64 of A–Z a–z 0–9 . _ : -");

export const ClaimRequest = z.strictObject({
  runner_id: RunnerId,
  kinds: z.array(JobKind).min(1).default(["tune", "generate"]),
  lease_seconds: z.number().int().min(5).max(3_600).default(60),
  wait_seconds: z.number().int().min(0).max(30).default(0).describe("long poll: wait up to this long for a job before answering 204"),
});
export const Claim = z.object({
  job: Job,
  lease_token: z.string(),
  lease_expires_at: Timestamp,
});
export type Claim = z.infer<typeof Claim>;

export const Heartbeat = z.strictObject({
  lease_token: z.string().min(1).max(128),
  progress: z.number().min(0).max(1).optional(),
  stage: z.string().max(64).optional(),
  message: Text(1_000).optional(),
  eta_seconds: z
    .number()
    .min(0)
    .max(604_800)
    .optional()
    .describe("the runner's estimate of the seconds left in the whole job; sent to watchers with the progress event"),
  lease_seconds: z.number().int().min(5).max(3_600).default(60),
});
export const HeartbeatReply = z.object({ status: JobStatus, lease_expires_at: Timestamp });

export const Complete = z.strictObject({
  lease_token: z.string().min(1).max(128),
  result: z.union([TuneResult, GenerateResult]),
});
export const Fail = z.strictObject({
  lease_token: z.string().min(1).max(128),
  error: ReportedJobError,
  retryable: z.boolean().default(false).describe("put the job back in the queue if attempts remain"),
  release: z.boolean().default(false).describe("give the job back unfinished without spending an attempt (a runner shutting down)"),
});

export const JobEventType = z.enum(["status", "progress", "log"]);
export const JobEvent = z.object({
  id: z.number().int(),
  type: JobEventType,
  data: z.record(z.string(), z.unknown()),
  created_at: Timestamp,
});
export type JobEvent = z.infer<typeof JobEvent>;

export const WebhookDelivery = z.object({
  id: z.string(),
  job_id: z.string(),
  event: WebhookEvent,
  state: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number().int(),
  last_status: z.number().int().nullable().describe("the receiver's HTTP status on the last attempt"),
  last_error: z.string().nullable(),
  next_attempt_at: Timestamp.nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const WebhookSecret = z.object({ secret: z.string().describe("the HMAC key that signs webhooks of jobs created with this API key") });
