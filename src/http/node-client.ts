/**
 * The transport's wire: one request, no redirect followed, its answer's head, then its body. Two
 * clients give the same answer (WireResponse): node:http(s) directly, the default, and node-fetch.
 *
 * node:http is the default because a page costs less CPU on it: node-fetch wraps every answer in a
 * stream pipeline whose AbortController raises a DOMException after each response, and builds a
 * WHATWG Headers and Response per request. On the sync path, where the worker's main thread is the
 * bottleneck, that was about a tenth of the engine's CPU per page (README, Benchmarks).
 *
 * node:http is also the only way to send a GET with a body, which fetch implementations refuse but
 * Python's requests (and so Airbyte's connectors) send, and some APIs read filters or page tokens from:
 * with node-fetch chosen, such a request still goes this way.
 */
import http from 'node:http';
import https from 'node:https';
import { PassThrough, pipeline, type Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { z } from 'zod';
import type { httpClientSchema } from '../config.js';
import fetch, { AbortError } from 'node-fetch';

export type HttpClientName = z.infer<typeof httpClientSchema>;
export const DEFAULT_HTTP_CLIENT: HttpClientName = 'node-http';

export interface WireRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  agent: http.Agent;
  signal: AbortSignal;
  /** Largest decoded body in bytes; 0 for no limit (a streamed answer is bounded per record). */
  size: number;
}

/** An answer as the transport reads it, whichever client fetched it. */
export interface WireResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  /** A header's values joined by ", " (as fetch's Headers gives them), or null. */
  header: (name: string) => string | null;
  /** The whole body, decoded; a BodyTooLargeError past the size limit. */
  bytes: () => Promise<Buffer>;
  /** The body as it arrives, decoded (a streamed answer); read it or `bytes()`, not both. */
  stream: () => AsyncIterable<Buffer> | null;
}

/** The answer's body was larger than the request's size limit. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/** Whether fetch would refuse this request for its body. */
export function bodyNeedsRawPath(method: string, body: string | undefined): boolean {
  return body !== undefined && (method === 'GET' || method === 'HEAD');
}

/** Sends the request once with the named client (a GET with a body always over node:http). */
export function sendWire(client: HttpClientName, req: WireRequest): Promise<WireResponse> {
  return client === 'node-fetch' && !bodyNeedsRawPath(req.method, req.body)
    ? sendNodeFetch(req)
    : sendNodeHttp(req);
}

async function sendNodeFetch(req: WireRequest): Promise<WireResponse> {
  const response = await fetch(req.url.toString(), {
    method: req.method,
    // The same User-Agent whichever client sends (the caller's wins).
    headers: withDefaults(req.headers),
    body: req.body,
    redirect: 'manual',
    agent: req.agent,
    signal: req.signal,
    size: req.size,
  });
  return {
    status: response.status,
    statusText: response.statusText,
    ok: response.ok,
    header: (name) => response.headers.get(name),
    bytes: async () => {
      try {
        return Buffer.from(await response.arrayBuffer());
      } catch (error) {
        if (error instanceof Error && error.name === 'FetchError' && /over limit/.test(error.message))
          throw new BodyTooLargeError(error.message);
        throw error;
      }
    },
    stream: () => response.body as AsyncIterable<Buffer> | null,
  };
}

/** The headers every request gets unless the caller sets them (names are case-blind). */
const DEFAULT_HEADERS: Record<string, string> = {
  'user-agent': 'syncwright',
  'accept-encoding': 'gzip, deflate, br',
};

/** The caller's headers over the defaults, names lower-cased (header names are case-blind). */
function withDefaults(given: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = { ...DEFAULT_HEADERS };
  for (const [k, v] of Object.entries(given)) headers[k.toLowerCase()] = v;
  return headers;
}

function sendNodeHttp(req: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const aborted = () => new AbortError('The operation was aborted.');
    if (req.signal.aborted) {
      reject(aborted());
      return;
    }
    const headers = withDefaults(req.headers);
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const send = req.url.protocol === 'https:' ? https.request : http.request;
    const request = send(req.url, { method: req.method, headers, agent: req.agent });
    let body: Readable | undefined;
    const onAbort = () => {
      const error = aborted();
      reject(error);
      body?.destroy(error);
      request.destroy();
    };
    req.signal.addEventListener('abort', onAbort, { once: true });
    const done = () => req.signal.removeEventListener('abort', onAbort);
    request.on('error', (error) => {
      done();
      reject(error);
    });
    request.on('response', (incoming) => {
      const status = incoming.statusCode ?? 0;
      const header = headerReader(incoming.rawHeaders);
      // No body to decode: a HEAD's answer, a 204, a 304.
      const noBody = req.method === 'HEAD' || status === 204 || status === 304;
      const decodedBody = decoded(incoming, noBody ? null : header('content-encoding'));
      body = decodedBody;
      decodedBody.once('close', done);
      let taken = false;
      const take = () => {
        if (taken) throw new Error("an answer's body was read twice");
        taken = true;
        return decodedBody;
      };
      resolve({
        status,
        statusText: incoming.statusMessage ?? '',
        ok: status >= 200 && status < 300,
        header,
        bytes: () => readAll(take(), req.size),
        stream: () => take(),
      });
    });
    request.end(req.body);
  });
}

/** Header lookup over the raw name/value list, built on first use (most answers are asked for a few). */
function headerReader(raw: readonly string[]): (name: string) => string | null {
  let byName: Map<string, string> | undefined;
  return (name) => {
    if (!byName) {
      byName = new Map();
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const k = raw[i]!.toLowerCase();
        const had = byName.get(k);
        byName.set(k, had === undefined ? raw[i + 1]! : `${had}, ${raw[i + 1]!}`);
      }
    }
    return byName.get(name.toLowerCase()) ?? null;
  };
}

/** The body's bytes, refusing (and dropping the connection) once they pass `limit` (0: no limit). */
function readAll(body: Readable, limit: number): Promise<Buffer> {
  // Already over (aborted, cut off, failed to decode): no event would come to settle the read.
  if (body.errored) return Promise.reject(body.errored);
  if (body.destroyed) return Promise.reject(new Error('the connection closed before the body was read'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (limit > 0 && size > limit) {
        const error = new BodyTooLargeError(`content size over limit: ${limit}`);
        body.destroy(error);
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    body.once('error', reject);
    // Destroyed without an error (the socket closed before the end): not a whole body.
    body.once('close', () => {
      if (!body.readableEnded) reject(new Error('the connection closed before the body ended'));
    });
  });
}

const noop = () => undefined;

/** The body with its content coding undone: gzip, deflate (zlib-wrapped or raw) or br; as it is else. */
function decoded(source: Readable, coding: string | null): Readable {
  // Lenient about truncated endings, as curl and node-fetch are.
  const lenient = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const through = (t: Transform): Readable => pipeline(source, t, noop);
  const c = coding?.trim().toLowerCase();
  if (c === 'gzip' || c === 'x-gzip') return through(zlib.createGunzip(lenient));
  if (c === 'deflate' || c === 'x-deflate') return inflated(source);
  if (c === 'br') return through(zlib.createBrotliDecompress());
  return source;
}

/**
 * Deflate as old servers send it, zlib-wrapped or raw (the first byte tells), piped once that byte is
 * seen so the inflater keeps the stream's backpressure (inflating every chunk as it came held a whole
 * unread answer in memory).
 */
function inflated(source: Readable): Readable {
  const out = new PassThrough();
  const onEnd = () => out.end();
  const onError = (error: Error) => out.destroy(error);
  source.once('end', onEnd);
  source.once('error', onError);
  source.once('data', (first: Buffer) => {
    source.pause();
    source.off('end', onEnd);
    source.off('error', onError);
    const inner = (first[0]! & 0x0f) === 0x08 ? zlib.createInflate() : zlib.createInflateRaw();
    inner.write(first);
    pipeline(source, inner, out, noop);
  });
  return out;
}
