import type { Engine, Slots, TrainGraph, TrainStepInput, TrainStepOutput } from "./engine.ts";
import type { OnnxModel } from "./session.ts";

/** The FYM engine on onnxruntime-node: the one every `npm install` gets (cpu, webgpu or cuda provider). */
export class OnnxEngine implements Engine {
  readonly name: string;

  constructor(readonly model: OnnxModel) {
    this.name = `onnx:${model.provider}`;
  }

  get config() {
    return this.model.config;
  }

  get base() {
    return { id: this.model.manifest.model.id, sha256: this.model.manifest.model.sha256 };
  }

  get sparseFrames() {
    return this.model.manifest.model.sparse_frames;
  }

  prepare() {
    return this.model.open();
  }

  async encodeText(prompt: string) {
    const out = await this.model.run("text_encoder", { tokens: this.model.tokenizer.encode(prompt) });
    return { text: out.text!, mask: out.text_mask! };
  }

  async denoise(x: Float32Array, t: Float32Array, text: Float32Array, mask: Float32Array, framePos: Float32Array, slots: Slots) {
    const out = await this.model.run("denoiser", {
      x,
      t,
      text,
      text_mask: mask,
      frame_pos: framePos,
      lora_A: slots.A,
      lora_B: slots.B,
      lora_scale: slots.scale,
    });
    return out.v!;
  }

  async probe(x: Float32Array, t: number, text: Float32Array, mask: Float32Array, framePos: Float32Array) {
    const out = await this.model.run("attention_probe", { x, t: Float32Array.of(t), text, text_mask: mask, frame_pos: framePos });
    return out.similarities!;
  }

  async trainStep(graph: TrainGraph, i: TrainStepInput): Promise<TrainStepOutput> {
    const out = await this.model.run(`train_step_${graph}`, {
      x0: i.x0,
      noise: i.noise,
      t: Float32Array.of(i.t),
      text: i.text,
      text_mask: i.textMask,
      frame_pos: i.framePos,
      frozen_A: i.frozen.A,
      frozen_B: i.frozen.B,
      frozen_scale: Float32Array.of(i.frozen.scale),
      lora_A: i.lora.A,
      lora_B: i.lora.B,
      lora_scale: Float32Array.of(i.lora.scale),
      loss_weights: Float32Array.from(i.lossWeights),
    });
    return { loss: out.loss![0]!, terms: [out.loss_terms![0]!, out.loss_terms![1]!], gradA: out.grad_A!, gradB: out.grad_B! };
  }
}
