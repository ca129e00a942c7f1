import type { Context, Hono } from "hono";
import type * as z from "zod";
import type { Scope } from "../../sdk/schema/index.ts";
import { hasScope, requireScope } from "../auth/keys.ts";
import type { AppEnv } from "../context.ts";
import { jsonBody, query } from "../http/validate.ts";

type Method = "get" | "post" | "put" | "patch" | "delete";
type Schema = z.ZodType;

export interface Operation<Q extends Schema | undefined = Schema | undefined, B extends Schema | undefined = Schema | undefined> {
  method: Method;
  /** Hono syntax (`/v1/loras/:owner/:name`); converted to `{owner}` for OpenAPI. */
  path: string;
  summary: string;
  tag: string;
  /** The scope a key needs (any one of a list); 'public' means anonymous callers are allowed too. */
  scope: Scope | Scope[] | "public";
  params?: Record<string, string>;
  query?: Q;
  body?: B;
  /** A raw body (blob upload) instead of JSON. */
  binaryBody?: { description: string };
  headers?: Record<string, string>;
  responses: Record<number, { description: string; schema?: Schema; contentType?: string }>;
}

type Input<Q, B> = {
  query: Q extends Schema ? z.output<Q> : undefined;
  body: B extends Schema ? z.output<B> : undefined;
};

/**
 * Registers routes and remembers their contracts, so the OpenAPI document and the docs page are
 * generated from the same zod schemas that validate requests and cannot drift from the handlers.
 */
export class Api {
  readonly operations: Operation[] = [];
  constructor(readonly app: Hono<AppEnv>) {}

  op<Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(
    op: Operation<Q, B>,
    handler: (c: Context<AppEnv>, input: Input<Q, B>) => Promise<Response> | Response,
  ): void {
    this.operations.push(op as Operation);
    this.app.on(op.method.toUpperCase(), op.path, async (c) => {
      const principal = c.get("principal");
      const scopes = op.scope === "public" ? ["read" as const] : Array.isArray(op.scope) ? op.scope : [op.scope];
      const held = scopes.find((sc) => hasScope(principal, sc));
      requireScope(principal, held ?? scopes[0]!);
      const q = op.query ? query(c, op.query) : undefined;
      const body = op.body ? await jsonBody(c, op.body) : undefined;
      return handler(c, { query: q, body } as Input<Q, B>);
    });
  }
}
