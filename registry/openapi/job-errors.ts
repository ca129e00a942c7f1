import { JobInputErrorCode, type JobErrorCode } from "../../sdk/schema/index.ts";

/** What each job error code asks of the job's owner (or of the runner's operator); a Record, so a new code cannot go undocumented. */
export const JOB_ERROR_HELP: Record<JobErrorCode, string> = {
  invalid_video:
    "the reference clip is not one the model can tune on (format, frame count or size; the message says which); fit it (the SDK's fitClip) and create a new job",
  invalid_lora: "a LoRA the job applies could not be loaded; apply another version, or publish a fixed one",
  invalid_lora_file: "a LoRA file is not a valid motion-LoRA safetensors file for this model; publish a valid file",
  base_model_mismatch: "a LoRA was made for another base model; apply one made for this registry's model",
  too_many_loras: "the job applies more LoRAs than the model has slots for; apply fewer",
  unsupported_option: "an option this model cannot honour (the message names it and the values it takes); change it or leave it out",
  unknown_word: "the prompt has words outside the model's vocabulary; use only its words (`motion-lora vocab`)",
  artifact_missing: "the runner's model files are missing; its operator restores them, then create the job again",
  artifact_corrupt: "the runner's model files do not match their checksums; its operator restores them, then create the job again",
  manifest_invalid: "the runner's model manifest is unreadable; its operator regenerates the artifacts, then create the job again",
  provider_unavailable: "the runner's execution provider (CUDA, WebGPU) could not start; its operator fixes it or runs with --provider cpu",
  torch_unavailable: "the runner's PyTorch engine is not installed; its operator installs it or runs the ONNX engine",
  engine_crashed: "the runner's model engine (the torch process) crashed on every attempt; create the job again, and report the job id if it repeats",
  engine_error: "the runner's model engine (the torch process) failed on every attempt; create the job again, and report the job id if it repeats",
  runner_stopped: "the runner shut down during the job; create the job again",
  runner_error: "the runner failed unexpectedly on every attempt; create the job again, and report the job id if it repeats",
  lease_expired: "the runner stopped reporting on every attempt (it crashed or lost the network); create the job again",
};

/** The job error codes as a Markdown table, for the API description. */
export function describeJobErrors(): string {
  const rows = Object.entries(JOB_ERROR_HELP).map(([code, help]) => `| \`${code}\` | ${JobInputErrorCode.safeParse(code).success ? "no" : "yes"} | ${help} |`);
  return [
    "Job errors: a failed job's `error.code` says what went wrong. Input codes fail the job at once (retrying cannot help); the others were retried up to the job's `max_attempts` first. A newer registry may add codes: treat an unknown one as `runner_error`. A runner may report any code; one not listed here is filed under `runner_error`, its own code kept in the message.",
    "",
    "| code | retried | what to do |",
    "| --- | --- | --- |",
    ...rows,
  ].join("\n");
}
