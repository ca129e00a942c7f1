import { request as httpRequest, type ClientRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { isLocalName, isPrivateAddress, literalAddress, type Resolve } from "./url.ts";
import { WebhookRefusedError, type WebhookSender } from "./send.ts";

/** Internal, like WebhookRefusedError: a delivery attempt that ran out of time, logged as "could not reach the receiver". */
class WebhookTimeoutError extends Error {
  override name = "WebhookTimeoutError";
}

const family = (address: string) => (address.includes(":") ? 6 : 4);

/**
 * Webhook POSTs over node:http(s) that connect only to addresses they checked: the socket's
 * `lookup` resolves the name, refuses it when any address is not public, and hands the socket
 * exactly the addresses it judged. A name that resolved to a public address when the job was
 * created and to 127.0.0.1 now (DNS rebinding) is refused here, before a byte is sent.
 */
export function nodeWebhookSender(resolve: Resolve): WebhookSender {
  return (post) =>
    new Promise((ok, fail) => {
      const { url, allowPrivate } = post;
      const literal = literalAddress(url.hostname);
      // Node connects to an address literal without calling `lookup`: judge it here.
      if (!allowPrivate && (literal !== null ? isPrivateAddress(literal) : isLocalName(url.hostname))) {
        fail(new WebhookRefusedError(`${url.hostname} is not a public address`));
        return;
      }
      const lookup: LookupFunction = (hostname, options, callback) => {
        resolve(hostname)
          .then((all) => {
            const addresses = options.family === 4 || options.family === 6 ? all.filter((a) => family(a) === options.family) : all;
            if (addresses.length === 0) throw Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" });
            const bad = allowPrivate ? undefined : all.find(isPrivateAddress);
            if (bad !== undefined) throw new WebhookRefusedError(`${hostname} resolves to ${bad}, which is not a public address`);
            if (options.all)
              callback(
                null,
                addresses.map((address) => ({ address, family: family(address) })),
              );
            else callback(null, addresses[0]!, family(addresses[0]!));
          })
          .catch((e: Error) => callback(e as NodeJS.ErrnoException, ""));
      };
      let settled = false;
      const done = (err: Error | null, status?: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(total);
        clearTimeout(connect);
        if (err) fail(err);
        else ok({ status: status! });
      };
      const req: ClientRequest = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
        method: "POST",
        headers: { ...post.headers, "content-length": String(Buffer.byteLength(post.body)) },
        lookup,
        // A fresh connection per delivery: a pooled socket would skip the lookup above.
        agent: false,
        signal: post.signal,
      });
      const total = setTimeout(() => req.destroy(new WebhookTimeoutError(`no answer within ${post.timeoutMs} ms`)), post.timeoutMs);
      const connect = setTimeout(() => req.destroy(new WebhookTimeoutError(`no connection within ${post.connectTimeoutMs} ms`)), post.connectTimeoutMs);
      req.on("socket", (socket) => {
        if (!socket.connecting) clearTimeout(connect);
        else socket.once("connect", () => clearTimeout(connect));
      });
      req.on("response", (res) => {
        // The status is all a delivery needs; the body is never read.
        res.destroy();
        done(null, res.statusCode ?? 0);
      });
      req.on("error", (e) => done(e));
      req.end(post.body);
    });
}
