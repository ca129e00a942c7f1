import { BaseModel } from "../../sdk/schema/index.ts";
import type { Services } from "../context.ts";
import type { Api } from "../openapi/api.ts";
import { PROMPT_RULES } from "./prompt.ts";

/** GET /v1/model: the base model and its prompt vocabulary, so clients check prompts without the model's files. */
export function modelRoutes(api: Api, s: Services) {
  api.op(
    {
      method: "get",
      path: "/v1/model",
      tag: "Model",
      scope: "public",
      summary: "The base model LoRAs are published for, and the words and grammar its prompts must follow",
      responses: { 200: { description: "the base model", schema: BaseModel } },
    },
    (c) => {
      const m = s.config.baseModel;
      const body: BaseModel = {
        id: m.id,
        sha256: m.sha256,
        depth: m.depth,
        dim: m.dim,
        heads: m.heads,
        projections: m.projections,
        max_rank: m.maxRank,
        vocabulary: m.vocabulary,
        max_prompt_words: m.maxPromptWords,
        prompt_rules: PROMPT_RULES,
        grammar: m.grammar,
      };
      return c.json(body);
    },
  );
}
