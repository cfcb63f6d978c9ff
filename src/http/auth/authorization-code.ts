/**
 * The OAuth2 authorization-code flow with PKCE (RFC 6749 §4.1, RFC 7636 S256), via oauth4webapi: the
 * authorize URL with a fresh state and code verifier, then the callback checked and its code exchanged.
 * `syncwright connection authorize` drives it; after it, syncs refresh the stored token like
 * `oauth2-refresh-token` does (src/http/auth/oauth2.ts).
 *
 *   const request = await startAuthorization(auth, inputs, 'http://127.0.0.1:8976/callback');
 *   // the user opens request.url; the provider redirects to the callback with code and state
 *   const { tokens, config } = await finishAuthorization(auth, inputs, request, callbackUrl, 30_000);
 */
import * as oauth from 'oauth4webapi';
import { ProviderError } from '../errors.js';
import type { AuthInputs } from './apply.js';
import { tokenClient, tokenEndpoint, tokenRequestError, tokenRequestOptions } from './oauth2.js';
import type { AuthConfig } from './schema.js';
import { withConnectionUrls } from './urls.js';

export { RESERVED_AUTHORIZE_PARAMS } from './schema.js';

export type AuthorizationCodeAuth = Extract<AuthConfig, { type: 'oauth2-authorization-code' }>;

/** The callback was not the answer to this authorization request, or the user or provider declined. */
export class AuthorizationError extends Error {
  override name = 'AuthorizationError';
}

export interface AuthorizationRequest {
  /** Where the user approves access. */
  url: URL;
  redirectUri: string;
  /** Kept in memory only, never printed: they tie the callback to this request. */
  state: string;
  codeVerifier: string;
}

export async function startAuthorization(
  spec: AuthorizationCodeAuth,
  inputs: AuthInputs,
  redirectUri: string,
): Promise<AuthorizationRequest> {
  const auth = withConnectionUrls(spec, inputs.config, inputs.where);
  const { client } = tokenClient(auth, inputs);
  const state = oauth.generateRandomState();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const url = new URL(auth.authorizeUrl);
  for (const [k, v] of Object.entries(auth.authorizeParams)) url.searchParams.set(k, v);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  if (auth.scopes.length) url.searchParams.set('scope', auth.scopes.join(' '));
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return { url, redirectUri, state, codeVerifier };
}

export interface Authorization {
  tokens: oauth.TokenEndpointResponse;
  /** Connection config fields filled from the token response (the spec's tokenResponseFields). */
  config: Record<string, unknown>;
  /** Token response fields the spec names that the provider did not send. */
  missingFields: string[];
}

/**
 * Checks the callback against `request` (state, and the provider's error if it sent one), exchanges the
 * code with the PKCE verifier, and picks the spec's tokenResponseFields out of the answer. A refused
 * exchange (a used or expired code, a verifier that does not match) is a ProviderError of kind auth.
 */
export async function finishAuthorization(
  spec: AuthorizationCodeAuth,
  inputs: AuthInputs,
  request: AuthorizationRequest,
  callback: URL,
  timeoutMs: number,
  /** Named in errors. */
  target: { integration?: string; connection?: string } = {},
): Promise<Authorization> {
  const auth = withConnectionUrls(spec, inputs.config, inputs.where);
  const as = tokenEndpoint(auth.tokenUrl);
  const { client, clientAuth } = tokenClient(auth, inputs);
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, client, callback.searchParams, request.state);
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError)
      throw new AuthorizationError(
        `the provider did not authorize ${inputs.where}: ${error.error}` +
          (error.error_description ? ` (${error.error_description})` : ''),
      );
    throw new AuthorizationError(
      `the callback is not the answer to this authorization request (${error instanceof Error ? error.message : String(error)}): refused; run the command again`,
    );
  }
  const where = { ...target, method: 'POST', path: new URL(auth.tokenUrl).pathname };
  let tokens: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      request.redirectUri,
      request.codeVerifier,
      tokenRequestOptions(auth.tokenUrl, timeoutMs),
    );
    tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
  } catch (error) {
    throw tokenRequestError(error, where, timeoutMs, auth.type);
  }
  if (tokens.token_type !== 'bearer')
    throw new ProviderError(
      'auth',
      `the token endpoint issued a "${tokens.token_type}" token, not a bearer token`,
      where,
    );
  const config: Record<string, unknown> = {};
  const missingFields: string[] = [];
  for (const [field, configField] of Object.entries(auth.tokenResponseFields)) {
    const value = tokens[field];
    if (value === undefined || value === null) missingFields.push(field);
    else config[configField] = value;
  }
  return { tokens, config, missingFields };
}
