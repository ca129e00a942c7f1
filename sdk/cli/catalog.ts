import { readFile, writeFile } from "node:fs/promises";
import { MotionLora } from "../client/client.ts";
import { AuthenticationError, NotFoundError } from "../client/errors.ts";
import { describeGrammar } from "../prompt/grammar.ts";
import { NORMALIZATION_RULES } from "../prompt/normalize.ts";
import { type BaseModel, type LoraUpdate, type LoraVersion, MotionCategory, Visibility } from "../schema/index.ts";
import { args, intFlag, out, UsageError, type Command } from "./command.ts";
import { resolveLogin, saveLogin } from "./login.ts";

/** A client for the registry named by flags, environment or saved login. */
export async function client(flags: { registry?: string | undefined; token?: string | undefined }) {
  const c = await resolveLogin(flags);
  return new MotionLora({ baseUrl: c.registry, ...(c.token ? { apiKey: c.token } : {}) });
}

/** `--category C` checked against the schema, or undefined when absent. */
export function category(v: string | undefined) {
  if (v === undefined) return undefined;
  const c = MotionCategory.safeParse(v);
  if (!c.success) throw new UsageError(`--category must be one of ${MotionCategory.options.join(", ")}`);
  return c.data;
}

/** Creates `owner/name` when it does not exist yet (needs --category). */
/** What `push` may say of a LoRA's card: applied at creation, or as an update of an existing LoRA. */
type CardFields = Omit<LoraUpdate, "category">;

/** Creates the LoRA `ref` when it does not exist (needs a category), else applies the card fields given. */
async function ensureLora(c: MotionLora, ref: string, cat: ReturnType<typeof category>, card: CardFields) {
  try {
    await c.loras.get(ref);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
    if (!cat) throw new UsageError(`${ref} does not exist yet; add --category (${MotionCategory.options.join(", ")}) and optionally --title to create it`);
    const [owner, name] = ref.split("/") as [string, string];
    await c.loras.create({ owner, name, ...card, title: card.title ?? name, category: cat });
    return;
  }
  const patch = { ...card, ...(cat && { category: cat }) };
  if (Object.keys(patch).length > 0) await c.loras.update(ref, patch);
}

/** The card fields of push's flags (the README read from its file), checked before anything is sent. */
async function cardFields(v: {
  title?: string | undefined;
  description?: string | undefined;
  readme?: string | undefined;
  tags?: string | undefined;
  license?: string | undefined;
  visibility?: string | undefined;
}): Promise<CardFields> {
  const visibility = v.visibility === undefined ? undefined : Visibility.safeParse(v.visibility);
  if (visibility && !visibility.success) throw new UsageError(`--visibility must be one of ${Visibility.options.join(", ")}`);
  return {
    ...(v.title !== undefined && { title: v.title }),
    ...(v.description !== undefined && { description: v.description }),
    ...(v.readme !== undefined && { readme: await readFile(v.readme, "utf8") }),
    ...(v.tags !== undefined && {
      tags: v.tags
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    }),
    ...(v.license !== undefined && { license: v.license }),
    ...(visibility?.success && { visibility: visibility.data }),
  };
}

/** Where people see a LoRA and its preview in the registry's gallery. */
const galleryUrl = (c: MotionLora, owner: string, name: string) => `${c.http.baseUrl}/loras/${owner}/${name}`;
const mediaUrl = (c: MotionLora, sha256: string) => `${c.http.baseUrl}/media/${sha256}`;

const login: Command = {
  name: "login",
  usage: "  motion-lora login --registry URL --token TOKEN       check the key and save both for later commands",
  help: `Checks the key on the registry and saves both (readable by you only) for later commands and for
the SDK's new MotionLora() in Node; the token is used only with the registry it was saved for.
  --registry URL         the registry's address, e.g. http://127.0.0.1:8787
  --token TOKEN          an API key (mlk_…) the registry's keys command made`,
  async run(argv) {
    const { values } = args(argv, {}, false);
    if (!values.registry || !values.token) throw new UsageError("login needs --registry URL and --token TOKEN");
    const me = await new MotionLora({ baseUrl: values.registry, apiKey: values.token }).me();
    if (!me.owner) throw new AuthenticationError(401, "invalid_api_key", "the registry did not recognise this token", null);
    const path = await saveLogin({ registry: values.registry, token: values.token });
    out(values.json, me, `logged in to ${values.registry} as '${me.owner}' (scopes ${me.scopes.join(",")}); saved in ${path}`);
    return 0;
  },
};

const search: Command = {
  name: "search",
  usage: "  motion-lora search [QUERY] [--category C] [--tag T] [--owner O] [--sort newest|downloads] [--limit N]",
  help: `Lists LoRAs whose name, title or tags contain QUERY.
  --category C           only this category: ${MotionCategory.options.join(", ")}
  --tag T                only LoRAs tagged T
  --owner O              only LoRAs of owner O
  --sort S               newest (the default) or downloads
  --limit N              at most N (default 20)`,
  async run(argv) {
    const { values, positionals } = args(argv, {
      category: { type: "string" },
      tag: { type: "string" },
      owner: { type: "string" },
      sort: { type: "string" },
      limit: { type: "string" },
    });
    const c = await client(values);
    const page = await c.loras.page({
      ...(positionals[0] && { q: positionals.join(" ") }),
      ...(values.category && { category: category(values.category) }),
      ...(values.owner && { owner: values.owner }),
      ...(values.tag && { tag: values.tag }),
      ...(values.sort && { sort: values.sort as "newest" }),
      limit: intFlag("limit", values.limit) ?? 20,
    });
    const line = (l: (typeof page.data)[number]) =>
      `${`${l.owner}/${l.name}`.padEnd(32)} v${l.latest_version ?? "-"}  ${l.category.padEnd(16)} ${String(l.downloads).padStart(6)}↓  ${l.title}`;
    out(values.json, page, page.data.map(line).join("\n") || "no LoRAs match");
    return 0;
  },
};

const show: Command = {
  name: "show",
  usage: "  motion-lora show OWNER/NAME[@VERSION]",
  help: `Shows a LoRA's card and its versions, or with @VERSION one version: file, rank, heads, preview, caption.`,
  async run(argv) {
    const { values, positionals } = args(argv, {});
    const ref = positionals[0];
    if (!ref) throw new UsageError("show needs OWNER/NAME[@VERSION]");
    const c = await client(values);
    if (ref.includes("@")) {
      const v = await c.versions.get(ref);
      const text = [
        `${v.owner}/${v.name}@${v.version}  ${v.stage} LoRA, rank ${v.rank}, ${v.file_size} bytes, base ${v.base_model_id}`,
        `sha256 ${v.file_sha256}`,
        ...versionLines(c, v),
        `target heads ${JSON.stringify(v.target_heads)}`,
        v.notes,
      ];
      out(values.json, v, text.join("\n"));
      return 0;
    }
    const lora = await c.loras.get(ref);
    const versions = [];
    for await (const v of c.versions.list(ref)) versions.push(v);
    const list = versions.map((v) => `  v${v.version}  ${v.created_at}  ${v.stage} rank ${v.rank}  ${v.file_sha256.slice(0, 12)}…  ${v.notes}`);
    const text = [
      `${lora.owner}/${lora.name} — ${lora.title}`,
      `${lora.category} · ${lora.visibility} · ${lora.license} · ${lora.downloads} downloads · tags ${lora.tags.join(", ") || "none"}`,
      `gallery ${galleryUrl(c, lora.owner, lora.name)}`,
      ...(versions[0] ? versionLines(c, versions[0]) : []),
      lora.description,
      "",
      list.join("\n") || "  no versions yet",
    ];
    out(values.json, { ...lora, versions }, text.join("\n"));
    return 0;
  },
};

/** A version's preview URL and the caption it was tuned on, when it has them. */
function versionLines(c: MotionLora, v: LoraVersion): string[] {
  const caption = v.tuning_config.caption;
  // The caption comes from the file's metadata: no control characters reach the terminal.
  const printable =
    typeof caption === "string"
      ? [...caption]
          .filter((ch) => {
            const c = ch.charCodeAt(0);
            return c >= 0x20 && (c < 0x7f || c > 0x9f);
          })
          .join("")
      : null;
  return [...(v.preview_sha256 ? [`preview ${mediaUrl(c, v.preview_sha256)}`] : []), ...(printable !== null ? [`caption "${printable}"`] : [])];
}

const push: Command = {
  name: "push",
  usage:
    "  motion-lora push FILE.safetensors --lora OWNER/NAME [--category C] [--title T] [--description D] [--readme FILE.md] [--tags a,b] [--license L] [--visibility public|private] [--notes TEXT] [--preview FILE] [--sample 'PROMPT=FILE.gif' ...]",
  help: `Publishes a safetensors LoRA file as the next version of OWNER/NAME, creating the LoRA when needed.
  --lora OWNER/NAME      the LoRA that receives the version
  --category C           needed to create it: ${MotionCategory.options.join(", ")}
  --title T              the card's title (default: NAME)
  --description D        one line on the card
  --readme FILE.md       the card's README (Markdown)
  --tags a,b             tags, comma-separated
  --license L            the licence (an SPDX id)
  --visibility V         public (listed in the gallery) or private
  --notes TEXT           this version's notes
  --preview FILE         a GIF or PNG shown for this version
  --sample PROMPT=FILE   a clip made with it for another prompt, repeatable`,
  async run(argv) {
    const { values, positionals } = args(argv, {
      lora: { type: "string" },
      title: { type: "string" },
      category: { type: "string" },
      description: { type: "string" },
      readme: { type: "string" },
      tags: { type: "string" },
      license: { type: "string" },
      visibility: { type: "string" },
      notes: { type: "string" },
      preview: { type: "string" },
      sample: { type: "string", multiple: true },
    });
    const file = positionals[0];
    if (!file || !values.lora) throw new UsageError("push needs FILE.safetensors and --lora OWNER/NAME");
    // Files and flags first: a wrong path or value fails before anything reaches the registry.
    const bytes = new Uint8Array(await readFile(file));
    const previewBytes = values.preview ? new Uint8Array(await readFile(values.preview)) : null;
    const card = await cardFields(values);
    const cat = category(values.category);
    const sampleFiles = await Promise.all(
      (values.sample ?? []).map(async (spec) => {
        const at = spec.lastIndexOf("=");
        if (at <= 0) throw new UsageError(`--sample must be "PROMPT=FILE.gif", got '${spec}'`);
        return { prompt: spec.slice(0, at).trim(), bytes: new Uint8Array(await readFile(spec.slice(at + 1))) };
      }),
    );
    const c = await client(values);
    await ensureLora(c, values.lora, cat, card);
    const blob = await c.blobs.upload(bytes, "lora");
    const preview = previewBytes ? await c.blobs.upload(previewBytes, "preview") : null;
    const samples = await Promise.all(sampleFiles.map(async (s) => ({ prompt: s.prompt, preview_sha256: (await c.blobs.upload(s.bytes, "preview")).sha256 })));
    const v = await c.versions.create(values.lora, {
      file_sha256: blob.sha256,
      ...(preview && { preview_sha256: preview.sha256 }),
      ...(samples.length > 0 && { samples }),
      ...(values.notes && { notes: values.notes }),
    });
    out(
      values.json,
      v,
      `published ${v.owner}/${v.name}@${v.version} (${v.stage}, rank ${v.rank}, sha256 ${v.file_sha256.slice(0, 12)}…): ${galleryUrl(c, v.owner, v.name)}`,
    );
    return 0;
  },
};

const pull: Command = {
  name: "pull",
  usage: "  motion-lora pull OWNER/NAME[@VERSION] [-o FILE] [--preview]   --preview also saves the version's preview GIF beside it",
  help: `Downloads a version's LoRA file (sha256-verified).
  -o, --output FILE      where it goes (default OWNER-NAME-vVERSION.safetensors)
  --preview              also saves the version's preview beside it`,
  async run(argv) {
    const { values, positionals } = args(argv, { output: { type: "string", short: "o" }, preview: { type: "boolean" } });
    const ref = positionals[0];
    if (!ref) throw new UsageError("pull needs OWNER/NAME[@VERSION]");
    const c = await client(values);
    const { version, bytes } = await c.versions.download(ref);
    const path = values.output ?? `${version.owner}-${version.name}-v${version.version}.safetensors`;
    await writeFile(path, bytes);
    let previewPath: string | null = null;
    if (values.preview && version.preview_sha256) {
      const gif = await c.blobs.download(version.preview_sha256);
      previewPath = `${path.replace(/\.safetensors$/, "")}.${gif[0] === 0x47 ? "gif" : "png"}`;
      await writeFile(previewPath, gif);
    }
    const saved = `saved ${version.owner}/${version.name}@${version.version} to ${path} (${bytes.length} bytes, sha256 verified)`;
    const preview = values.preview ? (previewPath ? `; preview ${previewPath}` : "; it has no preview") : "";
    out(values.json, { ...version, path, preview_path: previewPath }, saved + preview);
    return 0;
  },
};

const vocab: Command = {
  name: "vocab",
  usage: "  motion-lora vocab                                     how prompts must read: the base model's grammar and words",
  help: `Prints the registry's base model grammar: its slots, their words and example captions (--json: all of it).`,
  async run(argv) {
    const { values } = args(argv, {}, false);
    const m = await (await client(values)).model();
    out(values.json, m, readableVocabulary(m));
    return 0;
  },
};

/** The grammar's rules and slots, a few captions the model learned, and the word limit. */
function readableVocabulary(m: BaseModel): string {
  const limits = `At most ${m.max_prompt_words} words; ${NORMALIZATION_RULES}. Base model ${m.id}.`;
  if (m.grammar === null) {
    const words = m.vocabulary === null ? "This registry was not given the model's vocabulary and checks no prompt." : `Words: ${m.vocabulary.join(" ")}`;
    return `${words}\n${limits}`;
  }
  const { examples } = m.grammar;
  // Examples are listed category by category: take a few spread across them.
  const some = Array.from({ length: 6 }, (_, i) => examples[Math.floor((i * examples.length) / 6)]).filter((e) => e !== undefined);
  return [
    "A prompt reads like the captions the model learned: words in UPPER CASE stand for one word of that slot, [brackets] may be left out.",
    "",
    describeGrammar(m.grammar),
    "",
    "For example:",
    ...some.map((e) => `  ${e}`),
    "",
    limits,
  ].join("\n");
}

/** The catalog commands: sign in, find, inspect, publish and download LoRAs, and the model's words. */
export const catalogCommands: Command[] = [login, search, show, push, pull, vocab];
