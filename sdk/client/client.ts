import type * as z from "zod";
import {
  BaseModel,
  GenerateResult,
  Me,
  type GenerateInput,
  type Job,
  type JobEvent,
  type LoraCreate,
  type LoraVersion,
  QueueState,
  type TuneInput,
  type WebhookEvent,
} from "../schema/index.ts";
import { fitClipReported, type FitMode, type FitReport } from "../video/fit.ts";
import { decodeClipPng, encodeClipPng, MODEL_CLIP, type Frames } from "../video/frames.ts";
import { readFrames } from "../video/read.ts";
import { Blobs, type Bytes } from "./blobs.ts";
import { IntegrityError } from "./errors.ts";
import { Http, type ClientOptions } from "./http.ts";
import { Jobs } from "./jobs.ts";
import { Loras, Versions } from "./loras.ts";
import { parseRef } from "./refs.ts";
import { RunnerApi } from "./runner.ts";

export interface JobProgress {
  status: string | null;
  /** The runner's stage (spatial, temporal, upload, sample, sampling …) while running; null while queued. */
  stage: string | null;
  /**
   * The state in words, for a person: "queued, 2nd in line; 1 runner connected" while queued, the
   * stage while running, else the status ("succeeded").
   */
  label: string;
  /** 0–1 over the whole job. */
  progress: number;
  message: string | null;
  /** The runner's estimate of the seconds left in the whole job; null before it has one, or once it is done. */
  etaSeconds: number | null;
  /**
   * While queued: the job's place in line (1: next), the runners connected and, when none is, whether
   * the registry starts one (`runner_on_demand`: local, webhook, or null: none runs it until someone
   * starts one); null otherwise.
   */
  queue: QueueState | null;
}

interface Followed {
  onProgress?: (p: JobProgress) => void;
  signal?: AbortSignal;
  /** An http(s) URL the registry POSTs job events to, signed with your key's webhook secret (Standard Webhooks). */
  webhook?: string;
  /** Which events reach `webhook` (default: start, progress, completed). */
  webhookEventsFilter?: WebhookEvent[];
}

export interface TuneParams extends Followed {
  /** The reference clip: GIF or clip-PNG bytes, a list of PNG frames, or decoded frames. */
  video: Bytes | Uint8Array[] | Frames;
  /** A caption of the reference clip, in the model's vocabulary. */
  prompt: string;
  /** `owner/name` that receives the result as a new version. */
  lora: string;
  /** Creates the LoRA with its first version when it does not exist yet: a job that fails leaves no empty LoRA. */
  create?: Omit<z.input<typeof LoraCreate>, "name" | "owner">;
  /** The runner's recipe by name (default: "default"); `options` override its values. */
  recipe?: TuneInput["recipe"];
  options?: TuneInput["options"];
  /** "crop" (default): the centre square; "pad": the whole picture with bands. */
  fit?: FitMode;
  /** Seconds into the clip where the span the model's frames are spread over starts (default 0). */
  start?: number;
  /** Seconds the span lasts (default: to the end of the clip). */
  duration?: number;
  /**
   * Told, before anything is uploaded, what the model will see of the clip and what is thrown away
   * (`report.warnings`); throw to stop there. The published version's preview is the same fitted clip.
   */
  onFit?: (report: FitReport) => void | Promise<void>;
}

/**
 * A motion LoRA to apply: `ref` (`owner/name[@version]`) or the `version` that `tune` returned, with a
 * weight (default 1) and `until`, the share of sampling steps from noise it applies for (default: its
 * recipe's recommendation).
 */
export type GenerateLora = ({ ref: string; version?: never } | { version: Pick<LoraVersion, "owner" | "name" | "version">; ref?: never }) & {
  weight?: number;
  until?: number;
};

export interface GenerateParams extends Followed {
  prompt: string;
  loras?: GenerateLora[];
  options?: GenerateInput["options"];
}

export interface Generated {
  job: Job;
  /** The clip as frames, and as the clip PNG the runner uploaded (sha256-verified). */
  frames: Frames;
  png: Uint8Array;
}

/** The motion-lora registry client: typed resources plus `tune` and `generate` that follow their jobs. */
export class MotionLora {
  readonly http: Http;
  readonly loras: Loras;
  readonly versions: Versions;
  readonly jobs: Jobs;
  readonly blobs: Blobs;
  readonly runner: RunnerApi;

  constructor(opts: ClientOptions = {}) {
    this.http = new Http(opts);
    this.loras = new Loras(this.http);
    this.versions = new Versions(this.http);
    this.jobs = new Jobs(this.http);
    this.blobs = new Blobs(this.http);
    this.runner = new RunnerApi(this.http);
  }

  /** Whom the API key belongs to, and its scopes. */
  me(opts: { signal?: AbortSignal } = {}) {
    return this.http.json({ method: "GET", path: "/v1/me", signal: opts.signal }, Me);
  }

  /** The registry's base model and the words its prompts may use (check a prompt before spending a job on it). */
  model(opts: { signal?: AbortSignal } = {}) {
    return this.http.json({ method: "GET", path: "/v1/model", signal: opts.signal }, BaseModel);
  }

  /** Uploads a reference clip (fitted to the model's shape), tunes a motion LoRA on it and returns the published version. */
  async tune(p: TuneParams): Promise<LoraVersion> {
    const ref = parseRef(p.lora);
    const frames = isFrames(p.video) ? p.video : await readFrames(p.video instanceof Blob ? new Uint8Array(await p.video.arrayBuffer()) : p.video);
    const fitted = fitClipReported(frames, MODEL_CLIP, {
      ...(p.fit && { fit: p.fit }),
      ...(p.start !== undefined && { start: p.start }),
      ...(p.duration !== undefined && { duration: p.duration }),
    });
    await p.onFit?.(fitted.report);
    const clip = await encodeClipPng(fitted.frames);
    const video = await this.blobs.upload(clip, "video", sig(p));
    const job = await this.jobs.create(
      {
        kind: "tune",
        input: {
          video_sha256: video.sha256,
          prompt: p.prompt,
          lora: `${ref.owner}/${ref.name}`,
          ...(p.create && { create: p.create }),
          ...(p.recipe && { recipe: p.recipe }),
          options: p.options ?? {},
        },
        ...hook(p),
      },
      sig(p),
    );
    const done = await this.follow(job, p);
    if (!done.version_id) throw new IntegrityError(`tune job ${job.id} succeeded without a published version`);
    for await (const v of this.versions.list(`${ref.owner}/${ref.name}`, sig(p))) if (v.id === done.version_id) return v;
    throw new IntegrityError(`tune job ${job.id} published version ${done.version_id}, which is not listed`);
  }

  /** Generates a clip for `prompt` with the given motion LoRAs and returns it, verified. */
  async generate(p: GenerateParams): Promise<Generated> {
    const loras = (p.loras ?? []).map((l) => ({ ref: loraRef(l), weight: l.weight ?? 1, ...(l.until !== undefined && { until: l.until }) }));
    const job = await this.jobs.create({ kind: "generate", input: { prompt: p.prompt, loras, options: p.options ?? {} }, ...hook(p) }, sig(p));
    const done = await this.follow(job, p);
    const result = GenerateResult.parse(done.result);
    const png = await this.blobs.download(result.video_sha256, sig(p));
    return { job: done, png, frames: await decodeClipPng(png) };
  }

  private follow(job: Job, p: Followed): Promise<Job> {
    let state = startProgress(job);
    let shown = JSON.stringify(state);
    p.onProgress?.(state);
    const onEvent = (e: JobEvent) => {
      state = nextProgress(state, e);
      // One call per change: an event that changes nothing a watcher sees (a repeat, a late report) is not passed on.
      const now = JSON.stringify(state);
      if (now !== shown) p.onProgress?.(state);
      shown = now;
    };
    return this.jobs.wait(job.id, { onEvent, ...sig(p) });
  }
}

const ordinal = (n: number) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th")}`;

/** A queued job's place in line: "queued, next", "queued, 3rd in line". */
export const queuePlace = (q: QueueState) => `queued, ${q.position === 1 ? "next" : `${ordinal(q.position)} in line`}`;

/** Whether a queued job will run with no one acting: a runner is connected, or the registry is getting one. */
export const runnerExpected = (q: QueueState) => q.runners > 0 || q.runner_on_demand !== null;

/** A queued job's place in line and whether anything will run it: "queued, next; no runner connected". */
export function queueText(q: QueueState): string {
  const place = queuePlace(q);
  if (q.runners > 0) return `${place}; ${q.runners} runner${q.runners === 1 ? "" : "s"} connected`;
  if (q.runner_on_demand === "local") return `${place}; no runner connected yet: the registry is starting one`;
  if (q.runner_on_demand === "webhook") return `${place}; no runner connected yet: the registry has asked its platform to start one`;
  return `${place}; no runner connected`;
}

/** JobProgress's label: the place in line while queued, the stage while running, else the status. */
const label = (status: string | null, stage: string | null, queue: QueueState | null) =>
  status === "queued" ? (queue ? queueText(queue) : "queued") : status === "running" ? (stage ?? "running") : (status ?? "");

/** A job's progress as it stands, before any event. */
export function startProgress(job: Job): JobProgress {
  const queue = job.queue ?? null;
  return { status: job.status, stage: job.stage, label: label(job.status, job.stage, queue), progress: job.progress, message: null, etaSeconds: null, queue };
}

/**
 * A job's progress after one of its events (status, progress or log), as `onProgress` reports it.
 * Progress only grows: a report older or lower than one already seen never moves it back.
 */
export function nextProgress(prev: JobProgress, e: Pick<JobEvent, "type" | "data">): JobProgress {
  const d = e.data as Record<string, unknown>;
  const status = e.type === "status" ? String(d.status) : prev.status;
  const reported = typeof d.progress === "number" ? d.progress : status === "succeeded" ? 1 : prev.progress;
  const parsed = QueueState.safeParse(d.queue);
  const queue = status !== "queued" ? null : parsed.success ? parsed.data : prev.queue;
  const stage = typeof d.stage === "string" ? d.stage : prev.stage;
  return {
    status,
    stage,
    label: label(status, stage, queue),
    progress: Math.max(prev.progress, Math.min(1, reported)),
    // A stage's last log line ("temporal 396/400") is not the next stage's.
    message: typeof d.message === "string" ? d.message : e.type === "status" || stage !== prev.stage ? null : prev.message,
    // An estimate is only as fresh as the progress event that carried it.
    etaSeconds: e.type === "progress" ? (typeof d.eta_seconds === "number" ? d.eta_seconds : null) : e.type === "status" ? null : prev.etaSeconds,
    queue,
  };
}

/** A generate entry's ref: as given, or pinned to the exact version `tune` returned. */
const loraRef = (l: GenerateLora) => (l.version ? `${l.version.owner}/${l.version.name}@${l.version.version}` : l.ref!);

const sig = (p: { signal?: AbortSignal }) => (p.signal ? { signal: p.signal } : {});
const hook = (p: Followed) => ({
  ...(p.webhook !== undefined && { webhook: p.webhook }),
  ...(p.webhookEventsFilter !== undefined && { webhook_events_filter: p.webhookEventsFilter }),
});
const isFrames = (v: unknown): v is Frames => typeof v === "object" && v !== null && "rgb" in v && "count" in v;
