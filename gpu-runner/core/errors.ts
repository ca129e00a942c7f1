import type { JobErrorCode } from "../../sdk/schema/jobs.ts";

/**
 * The runner side's one error base: every error the runner raises on purpose carries a job error
 * code from the SDK's schema, so a failed job tells its user what went wrong and what to do.
 * `final` errors are about the job's input: retrying cannot help, so the job fails at once.
 */
export class RunnerError extends Error {
  override name = "RunnerError";
  constructor(
    readonly code: JobErrorCode,
    message: string,
    readonly final = false,
  ) {
    super(message);
  }
}
