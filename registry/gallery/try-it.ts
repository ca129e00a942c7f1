// The LoRA page's "Try it" panel, in the browser: a signed-in user types a prompt (the grammar's
// words offered as they type), generates with this LoRA at a chosen weight, watches the job's
// progress live and gets the clip to play and download. The prompt is checked as it is typed, with
// the registry's own rules (sdk/prompt/check.ts). Bundled with the SDK (gallery/bundle.ts).
import "./jitless.ts";
import { queuePlace, queueText, runnerExpected } from "../../sdk/client/client.ts";
import { encodeGif, matchGrammar, MotionLora, type PromptModel, promptProblem, promptWords } from "../../sdk/index.ts";
import type { QueueState } from "../../sdk/schema/jobs.ts";

const TOKEN_KEY = "motion-lora:token";
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const panel = $("try");
const ref = panel.dataset.ref!;
const token = $<HTMLInputElement>("try-token");
const prompt = $<HTMLInputElement>("try-prompt");
const weight = $<HTMLInputElement>("try-weight");
const steps = $<HTMLInputElement>("try-steps");
const suggestions = $("try-suggestions");
const status = $("try-status");
const bar = $<HTMLProgressElement>("try-progress");
const result = $<HTMLImageElement>("try-clip");
const download = $<HTMLAnchorElement>("try-download");
const go = $<HTMLButtonElement>("try-go");

token.value = localStorage.getItem(TOKEN_KEY) ?? "";
const client = () => new MotionLora({ baseUrl: location.origin, ...(token.value ? { apiKey: token.value } : {}) });
let model: PromptModel | null = null;
void client()
  .model()
  .then((m) => {
    model = { vocabulary: m.vocabulary, maxPromptWords: m.max_prompt_words, grammar: m.grammar };
    onPromptInput();
  });

/** The words that may come next (completing the word being typed), from the grammar. */
function suggest() {
  suggestions.replaceChildren();
  const grammar = model?.grammar;
  if (!grammar) return;
  const typed = prompt.value;
  const partial = /\S$/.test(typed) ? (typed.split(/\s+/).at(-1) ?? "") : "";
  const words = promptWords(partial ? typed.slice(0, -partial.length) : typed);
  const m = matchGrammar(words, grammar);
  if (m.ok || m.position < words.length) return;
  const next = m.expected.flatMap((e) => ("word" in e ? [e.word] : "words" in e ? e.words : []));
  const typing = partial.toLowerCase();
  for (const w of next.filter((w) => w.startsWith(typing) && w !== typing).slice(0, 24)) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "tag";
    chip.textContent = w;
    chip.onclick = () => {
      prompt.value = `${partial ? typed.slice(0, -partial.length) : typed.replace(/\s*$/, typed ? " " : "")}${w} `;
      prompt.focus();
      onPromptInput();
    };
    suggestions.append(chip);
  }
}

function show(state: string, text: string, fromPrompt = false) {
  panel.dataset.state = state;
  panel.dataset.promptError = String(fromPrompt);
  prompt.setAttribute("aria-invalid", String(fromPrompt));
  status.textContent = text;
}

/** A sentence's last mark: the writer says the prompt is finished. */
const ENDED = /[.!?]\s*$/;

/**
 * Checks the prompt with the registry's own check (promptProblem: words, length, grammar and
 * completeness), as it is typed. A word that cannot be right is shown at once. A prompt still being
 * written (a word half typed, words missing at the end) is no error yet, until it is finished: it
 * ends a sentence ("an orange cross."), or the writer leaves the field or presses Enter (`done`);
 * then a prompt that ends too soon gets the message the registry would answer. An error the
 * prompt no longer has is cleared.
 */
function check(done = false) {
  // A job in progress keeps the status line; Generate checks the prompt again anyway.
  if (!model || panel.dataset.state === "running") return;
  const text = prompt.value;
  const whole = promptProblem(text, model);
  if (whole && (done || ENDED.test(text))) return show("error", whole.message, true);
  const typed = /\S$/.test(text) ? text.replace(/\S+$/, "") : text;
  const sofar = whole && promptProblem(typed, model);
  const unfinished = !sofar || (sofar.code === "prompt_does_not_fit" && sofar.match.found === null);
  if (sofar && !unfinished) show("error", sofar.message, true);
  else if (panel.dataset.promptError === "true") show("idle", whole ? "" : "the prompt fits");
}

/** A queued job's standing in words, as the SDK says it; where nothing will run it, who must act (the page's user cannot start a runner). */
const standing = (q: QueueState) =>
  runnerExpected(q) ? queueText(q) : `${queuePlace(q)}; no runner is connected: it waits until the registry's operator starts one`;

function onPromptInput() {
  suggest();
  check();
}

prompt.addEventListener("input", onPromptInput);
// Leaving the field (or Enter) finishes the prompt: what it lacks is said before Generate is pressed.
prompt.addEventListener("change", () => check(true));
prompt.addEventListener("keydown", (e) => {
  if (e.key === "Enter") check(true);
});
$("try-weight-value").textContent = weight.value;
weight.addEventListener("input", () => ($("try-weight-value").textContent = weight.value));

go.addEventListener("click", async () => {
  const problem = model && promptProblem(prompt.value, model);
  if (problem) return show("error", problem.message, true);
  if (!token.value)
    return show(
      "error",
      "Enter an API key with the write scope first; the registry's operator makes one (npx motion-lora keys create, in a clone of the motion-lora repository).",
    );
  localStorage.setItem(TOKEN_KEY, token.value);
  go.disabled = true;
  bar.value = 0;
  show("running", "queued…");
  try {
    const clip = await client().generate({
      prompt: prompt.value,
      loras: [{ ref, weight: Number(weight.value) }],
      options: { steps: Number(steps.value) },
      onProgress: (p) => {
        bar.value = p.progress;
        const eta = p.etaSeconds === null ? "" : `, about ${Math.ceil(p.etaSeconds)} s left`;
        show("running", p.queue ? standing(p.queue) : `${p.stage ?? p.status ?? ""} ${(p.progress * 100).toFixed(0)}%${eta}`);
      },
    });
    const gif = encodeGif(clip.frames, { scale: 8 });
    const url = URL.createObjectURL(new Blob([gif as Uint8Array<ArrayBuffer>], { type: "image/gif" }));
    result.src = url;
    result.hidden = false;
    download.href = url;
    download.download = `${ref.replace(/[/@]/g, "-")}.gif`;
    download.hidden = false;
    bar.value = 1;
    show("done", `done: job ${clip.job.id}`);
  } catch (e) {
    show("error", `${(e as Error).name}: ${(e as Error).message}`);
  } finally {
    go.disabled = false;
  }
});
