/**
 * JWT assertions for the OAuth2 JWT-bearer grant (RFC 7523 §2.1), signed with node:crypto: RS256
 * (RSASSA-PKCS1-v1_5 with SHA-256) or ES256 (ECDSA P-256 with SHA-256, the signature as r | s, RFC 7518
 * §3.4). Pure apart from the clock the caller passes in.
 *
 *   const jwt = signJwt({ alg: 'RS256', privateKey: pem }, { iss: 'sa@p.iam.gserviceaccount.com',
 *     aud: 'https://oauth2.googleapis.com/token', iat: 1700000000, exp: 1700003600 });
 */
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';

export type JwtAlgorithm = 'RS256' | 'ES256';

export class JwtKeyError extends Error {
  override name = 'JwtKeyError';
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/**
 * The private key in `pem` (PKCS#8, PKCS#1 or SEC1), checked to fit `alg`. A key pasted with literal
 * `\n` (as it appears inside a Google service-account JSON file) is accepted. Errors never quote the key.
 */
export function privateKeyFor(pem: string, alg: JwtAlgorithm, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem);
  } catch {
    throw new JwtKeyError(
      `the private key of ${where} is not a PEM private key (PKCS#8, PKCS#1 or SEC1 text, as in a service-account key file)`,
    );
  }
  const type = key.asymmetricKeyType;
  if (alg === 'RS256' && type !== 'rsa')
    throw new JwtKeyError(`the private key of ${where} is ${type ?? 'unknown'}, but RS256 needs an RSA key`);
  if (alg === 'ES256' && (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'))
    throw new JwtKeyError(
      `the private key of ${where} is ${type === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve}` : (type ?? 'unknown')}, but ES256 needs an EC P-256 key`,
    );
  return key;
}

/** A compact JWS: base64url(header).base64url(claims).base64url(signature). */
export function signJwt(
  opts: { alg: JwtAlgorithm; privateKey: KeyObject; keyId?: string | undefined },
  claims: Record<string, unknown>,
): string {
  const header = { alg: opts.alg, typ: 'JWT', ...(opts.keyId ? { kid: opts.keyId } : {}) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: opts.privateKey,
    ...(opts.alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  });
  return `${input}.${b64url(signature)}`;
}

export interface AssertionInput {
  alg: JwtAlgorithm;
  privateKey: KeyObject;
  keyId?: string | undefined;
  issuer: string;
  subject?: string | undefined;
  audience: string;
  /** Space-separated, in the `scope` claim (Google); omitted when undefined. */
  scope?: string | undefined;
  lifetimeSeconds: number;
  /** Seconds since the epoch. */
  now: number;
}

/** The assertion of a JWT-bearer token request: iss, sub, aud, iat, exp and a unique jti. */
export function buildAssertion(a: AssertionInput): string {
  return signJwt(
    { alg: a.alg, privateKey: a.privateKey, keyId: a.keyId },
    {
      iss: a.issuer,
      ...(a.subject ? { sub: a.subject } : {}),
      aud: a.audience,
      ...(a.scope ? { scope: a.scope } : {}),
      iat: a.now,
      exp: a.now + a.lifetimeSeconds,
      jti: randomUUID(),
    },
  );
}
