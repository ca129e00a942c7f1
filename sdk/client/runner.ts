import type * as z from "zod";
import { Claim, type ClaimRequest, type Complete, type Fail, type Heartbeat, HeartbeatReply, Job } from "../schema/index.ts";
import type { Http } from "./http.ts";

type Opts = { signal?: AbortSignal };

/** The runner side of the job protocol: claim, heartbeat, complete, fail (keys with the `runner` scope). */
export class RunnerApi {
  constructor(private readonly http: Http) {}

  /** The oldest queued job of `kinds` with its lease, or null when none is queued. */
  async claim(body: z.input<typeof ClaimRequest>, opts: Opts = {}): Promise<Claim | null> {
    const res = await this.http.response({ method: "POST", path: "/v1/runner/claim", json: body, signal: opts.signal });
    if (res.status === 204) return null;
    return Claim.parse(await res.json());
  }

  /** Extends the lease and reports progress; a ConflictError means stop (canceled or lease lost). */
  heartbeat(id: string, body: z.input<typeof Heartbeat>, opts: Opts = {}) {
    return this.http.json({ method: "POST", path: `/v1/jobs/${id}/heartbeat`, json: body, signal: opts.signal }, HeartbeatReply);
  }

  complete(id: string, body: z.input<typeof Complete>, opts: Opts = {}) {
    return this.http.json({ method: "POST", path: `/v1/jobs/${id}/complete`, json: body, signal: opts.signal }, Job);
  }

  fail(id: string, body: z.input<typeof Fail>, opts: Opts = {}) {
    return this.http.json({ method: "POST", path: `/v1/jobs/${id}/fail`, json: body, signal: opts.signal }, Job);
  }
}
