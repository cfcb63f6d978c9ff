/**
 * A GET that carries a body. Fetch implementations refuse one, but Python's requests (and so Airbyte's
 * connectors) send it, and some APIs read their filters or page tokens from it. It goes over node:http(s)
 * with the transport's own agents and comes back as a node-fetch Response, decompressed and size-limited
 * as node-fetch does it, so the transport treats both paths alike. Every other request stays on
 * node-fetch: this path is taken only when a GET has a body.
 */
import http from 'node:http';
import https from 'node:https';
import { PassThrough, pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { AbortError, Headers, Response } from 'node-fetch';

export interface RawRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string;
  agent: http.Agent;
  signal: AbortSignal;
  /** Largest decoded body in bytes; 0 for no limit (a streamed answer is bounded per record). */
  size: number;
}

/** Whether fetch would refuse this request for its body. */
export function bodyNeedsRawPath(method: string, body: string | undefined): boolean {
  return body !== undefined && (method === 'GET' || method === 'HEAD');
}

/** Sends the request once (no redirect followed) and resolves with its answer's head. */
export function sendRaw(req: RawRequest): Promise<Response> {
  return new Promise((resolve, reject) => {
    const aborted = () => new AbortError('The operation was aborted.');
    if (req.signal.aborted) {
      reject(aborted());
      return;
    }
    // The defaults node-fetch sends, which the caller's headers may override (names are case-blind).
    const headers: Record<string, string> = {
      'user-agent': 'node-fetch',
      'accept-encoding': 'gzip, deflate, br',
    };
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
    headers['content-length'] = String(Buffer.byteLength(req.body));
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
      const responseHeaders = new Headers();
      const raw = incoming.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        try {
          responseHeaders.append(raw[i]!, raw[i + 1]!);
        } catch {
          // A header fetch would not accept is left out, as node-fetch does.
        }
      }
      const status = incoming.statusCode ?? 0;
      body = decoded(
        incoming,
        status === 204 || status === 304 ? null : responseHeaders.get('content-encoding'),
      );
      body.once('close', done);
      resolve(
        new Response(body, {
          status,
          statusText: incoming.statusMessage ?? '',
          headers: responseHeaders,
          size: req.size,
          url: req.url.toString(),
        } as ConstructorParameters<typeof Response>[1]),
      );
    });
    request.end(req.body);
  });
}

const noop = () => undefined;

/** The body with its content coding undone: gzip, deflate (zlib-wrapped or raw) or br. */
function decoded(source: Readable, coding: string | null): Readable {
  // Lenient about truncated endings, as curl and node-fetch are.
  const lenient = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const through = (t: Transform): Readable => pipeline(source, t, noop);
  if (coding === 'gzip' || coding === 'x-gzip') return through(zlib.createGunzip(lenient));
  if (coding === 'deflate' || coding === 'x-deflate') return through(new Inflate());
  if (coding === 'br') return through(zlib.createBrotliDecompress());
  return through(new PassThrough());
}

/** Deflate as old servers send it: zlib-wrapped, or raw (the first byte tells). */
class Inflate extends Transform {
  private inner: zlib.Inflate | zlib.InflateRaw | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.inner) {
      this.inner = (chunk[0]! & 0x0f) === 0x08 ? zlib.createInflate() : zlib.createInflateRaw();
      this.inner.on('data', (d: Buffer) => this.push(d));
      this.inner.on('error', (e) => this.destroy(e));
    }
    if (this.inner.write(chunk)) callback();
    else this.inner.once('drain', () => callback());
  }

  override _flush(callback: TransformCallback): void {
    if (!this.inner) {
      callback();
      return;
    }
    this.inner.once('end', () => callback());
    this.inner.end();
  }
}
