import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { browserCommand } from '../../src/cli/authorize.js';
import type { AuthInputs } from '../../src/http/auth/apply.js';
import {
  AuthorizationError,
  finishAuthorization,
  startAuthorization,
  type AuthorizationCodeAuth,
} from '../../src/http/auth/authorization-code.js';
import { buildAssertion, JwtKeyError, privateKeyFor, signJwt } from '../../src/http/auth/jwt.js';
import { authSchema } from '../../src/http/auth/schema.js';
import { SpecError } from '../../src/spec/errors.js';
import { parseSpec } from '../../src/spec/define.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }) as string;

const decode = (jwt: string) => {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>,
    input: Buffer.from(`${h}.${p}`),
    signature: Buffer.from(s!, 'base64url'),
  };
};

describe('JWT assertions (RFC 7523)', () => {
  it('RS256: the header, and a signature that verifies with the public key', () => {
    const jwt = signJwt({ alg: 'RS256', privateKey: rsa.privateKey, keyId: 'k1' }, { iss: 'a', n: 1 });
    const d = decode(jwt);
    assert.deepEqual(d.header, { alg: 'RS256', typ: 'JWT', kid: 'k1' });
    assert.deepEqual(d.claims, { iss: 'a', n: 1 });
    assert.ok(verify('sha256', d.input, rsa.publicKey, d.signature));
    assert.ok(
      !verify('sha256', d.input, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, d.signature),
    );
  });

  it('ES256: a 64-byte r|s signature (JWS form, not DER) that verifies', () => {
    const d = decode(signJwt({ alg: 'ES256', privateKey: ec.privateKey }, { iss: 'a' }));
    assert.deepEqual(d.header, { alg: 'ES256', typ: 'JWT' });
    assert.equal(d.signature.length, 64);
    assert.ok(verify('sha256', d.input, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, d.signature));
  });

  it('the assertion carries iss, sub, aud, scope, iat, exp = iat + lifetime and a fresh jti', () => {
    const input = {
      alg: 'RS256' as const,
      privateKey: rsa.privateKey,
      issuer: 'sa@p.iam.gserviceaccount.com',
      subject: 'user@example.com',
      audience: 'https://oauth2.googleapis.com/token',
      scope: 'a b',
      lifetimeSeconds: 1800,
      now: 1_700_000_000,
    };
    const a = decode(buildAssertion(input)).claims;
    const b = decode(buildAssertion({ ...input, subject: undefined, scope: undefined })).claims;
    assert.deepEqual(
      { ...a, jti: undefined },
      {
        iss: 'sa@p.iam.gserviceaccount.com',
        sub: 'user@example.com',
        aud: 'https://oauth2.googleapis.com/token',
        scope: 'a b',
        iat: 1_700_000_000,
        exp: 1_700_001_800,
        jti: undefined,
      },
    );
    assert.ok(!('sub' in b) && !('scope' in b), 'optional claims are left out, not null');
    assert.notEqual(a.jti, b.jti);
  });

  it('keys: PEM with literal \\n (a service-account JSON) is accepted; a wrong kind is refused by name', () => {
    const escaped = pem(rsa.privateKey).replace(/\n/g, '\\n');
    assert.equal(privateKeyFor(escaped, 'RS256', 'connection g/x').asymmetricKeyType, 'rsa');
    assert.throws(
      () => privateKeyFor('garbage-SECRET', 'RS256', 'connection g/x'),
      (e: unknown) => {
        assert.ok(e instanceof JwtKeyError);
        assert.match(e.message, /connection g\/x is not a PEM private key/);
        assert.doesNotMatch(e.message, /SECRET/);
        return true;
      },
    );
    assert.throws(
      () => privateKeyFor(pem(rsa.privateKey), 'ES256', 'c'),
      /is rsa, but ES256 needs an EC P-256 key/,
    );
    assert.throws(() => privateKeyFor(pem(ec.privateKey), 'RS256', 'c'), /is ec, but RS256 needs an RSA key/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    assert.throws(
      () => privateKeyFor(pem(p384), 'ES256', 'c'),
      /EC secp384r1, but ES256 needs an EC P-256 key/,
    );
  });
});

const baseSpec = (auth: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'x',
  baseUrl: 'https://api.example.com',
  secrets: { client_id: 'id', client_secret: 'secret', key: 'pem', email: 'iss' },
  auth,
  resources: { r: { request: { path: '/r' }, primaryKey: 'id' } },
  ...extra,
});
const problems = (spec: unknown): string[] => {
  try {
    parseSpec(spec, 'x.json');
    return [];
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    return e.problems;
  }
};
const code = {
  type: 'oauth2-authorization-code',
  authorizeUrl: 'https://login.example.com/authorize',
  tokenUrl: 'https://login.example.com/token',
  clientId: 'client_id',
};

describe('spec checks of the new auth types', () => {
  it('authorization code: valid forms, and each mistake named by path', () => {
    assert.deepEqual(problems(baseSpec({ ...code, clientSecret: 'client_secret' })), []);
    assert.deepEqual(problems(baseSpec(code)), [], 'a public client');
    const found = problems(
      baseSpec(
        {
          ...code,
          clientSecret: 'nope',
          clientAuth: 'none',
          authorizeParams: { state: 'x', access_type: 'offline' },
          tokenResponseFields: { instance_url: 'instanceUrl' },
        },
        {},
      ),
    ).join('\n');
    assert.match(found, /auth\.clientSecret: secret "nope" is not declared in secrets/);
    assert.match(found, /auth\.clientSecret: a public client \(clientAuth: none\) sends no secret/);
    assert.match(found, /auth\.authorizeParams\.state: "state" is set by the authorization flow itself/);
    assert.doesNotMatch(found, /access_type/);
    assert.match(
      found,
      /auth\.tokenResponseFields\.instance_url: config field "instanceUrl" is not declared/,
    );
    assert.match(
      problems(baseSpec({ ...code, clientAuth: 'post' })).join('\n'),
      /auth\.clientAuth: "post" sends a client secret/,
    );
  });

  it('JWT bearer: secret references checked; algorithm and lifetime bounded', () => {
    const jwt = {
      type: 'oauth2-jwt-bearer',
      tokenUrl: 'https://t.example.com/token',
      privateKey: 'key',
      issuer: 'email',
    };
    assert.deepEqual(problems(baseSpec(jwt)), []);
    const parsed = authSchema.parse(jwt);
    assert.deepEqual(
      parsed.type === 'oauth2-jwt-bearer' && [parsed.algorithm, parsed.lifetimeSeconds, parsed.scopesIn],
      ['RS256', 3600, 'claim'],
    );
    const found = problems(
      baseSpec({ ...jwt, subject: 'who', keyId: 'kid', algorithm: 'HS256', lifetimeSeconds: 0 }),
    ).join('\n');
    assert.match(found, /auth\.algorithm/);
    assert.match(found, /auth\.lifetimeSeconds/);
    const refs = problems(baseSpec({ ...jwt, subject: 'who', keyId: 'kid' })).join('\n');
    assert.match(refs, /auth\.subject: secret "who" is not declared/);
    assert.match(refs, /auth\.keyId: secret "kid" is not declared/);
  });
});

describe('the authorization-code flow', () => {
  const auth = authSchema.parse({
    ...code,
    scopes: ['read', 'offline_access'],
    authorizeParams: { prompt: 'consent' },
  }) as AuthorizationCodeAuth;
  const inputs: AuthInputs = { secrets: { client_id: 'cid' }, config: {}, env: {}, where: 'connection x/y' };

  it('the authorize URL: PKCE S256 over a fresh verifier, a fresh state, scopes and extra parameters', async () => {
    const a = await startAuthorization(auth, inputs, 'http://127.0.0.1:8976/callback');
    const b = await startAuthorization(auth, inputs, 'http://127.0.0.1:8976/callback');
    const q = Object.fromEntries(a.url.searchParams);
    assert.equal(`${a.url.origin}${a.url.pathname}`, 'https://login.example.com/authorize');
    assert.deepEqual(
      { ...q, state: undefined, code_challenge: undefined },
      {
        prompt: 'consent',
        response_type: 'code',
        client_id: 'cid',
        redirect_uri: 'http://127.0.0.1:8976/callback',
        scope: 'read offline_access',
        code_challenge_method: 'S256',
        state: undefined,
        code_challenge: undefined,
      },
    );
    assert.equal(q.code_challenge, createHash('sha256').update(a.codeVerifier).digest('base64url'));
    assert.equal(q.state, a.state);
    assert.notEqual(a.state, b.state);
    assert.notEqual(a.codeVerifier, b.codeVerifier);
    assert.ok(!a.url.toString().includes(a.codeVerifier), 'the verifier never leaves this process');
  });

  it('a callback with another state, no state, or a provider error is refused before any token request', async () => {
    const a = await startAuthorization(auth, inputs, 'http://127.0.0.1:8976/callback');
    const finish = (query: string) =>
      finishAuthorization(auth, inputs, a, new URL(`http://127.0.0.1:8976/callback?${query}`), 1000);
    await assert.rejects(finish(`code=c&state=${a.state}x`), AuthorizationError);
    await assert.rejects(finish('code=c'), /not the answer to this authorization request/);
    await assert.rejects(
      finish(`error=access_denied&error_description=the+user+said+no&state=${a.state}`),
      /the provider did not authorize connection x\/y: access_denied \(the user said no\)/,
    );
  });
});

describe('opening a browser', () => {
  const url = 'https://login.example.com/authorize?x=1';
  it('never in CI, never on a Linux session without a display; $BROWSER wins', () => {
    assert.equal(browserCommand(url, { CI: 'true', DISPLAY: ':0' }, 'linux'), undefined);
    assert.equal(browserCommand(url, { CI: '1' }, 'darwin'), undefined);
    assert.equal(browserCommand(url, {}, 'linux'), undefined, 'SSH or a container');
    assert.deepEqual(browserCommand(url, { DISPLAY: ':0' }, 'linux'), ['xdg-open', [url]]);
    assert.deepEqual(browserCommand(url, { WAYLAND_DISPLAY: 'w' }, 'linux'), ['xdg-open', [url]]);
    assert.deepEqual(browserCommand(url, {}, 'darwin'), ['open', [url]]);
    assert.deepEqual(browserCommand(url, { BROWSER: 'firefox' }, 'linux'), ['firefox', [url]]);
    assert.deepEqual(browserCommand(url, { CI: 'false' }, 'darwin'), ['open', [url]]);
  });
});

describe('spec checks on a malformed auth', () => {
  it('an authorization-code auth missing its objects does not hide the other problems', async () => {
    const { checkOAuthFlowAuth } = await import('../../src/http/auth/spec-checks.js');
    const issues: unknown[] = [];
    const ctx = { addIssue: (i: unknown) => issues.push(i) } as unknown as Parameters<
      typeof checkOAuthFlowAuth
    >[2];
    const raw = { type: 'oauth2-authorization-code', clientId: 'nope' } as unknown as Parameters<
      typeof checkOAuthFlowAuth
    >[0];
    assert.doesNotThrow(() => checkOAuthFlowAuth(raw, {}, ctx, () => undefined));
  });
});
