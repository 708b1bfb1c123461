#!/usr/bin/env node
// A real OpenID Connect provider (npm "oidc-provider") for MA Home's browser SSO tests.
//
// Listens on 127.0.0.1 only. Everything is configured from CLI args, falling back to
// environment variables:
//
//   --port            / OIDC_PORT            TCP port (required)
//   --issuer          / OIDC_ISSUER          default http://127.0.0.1:PORT
//   --client-id       / OIDC_CLIENT_ID       required
//   --client-secret   / OIDC_CLIENT_SECRET   required
//   --redirect-uri    / OIDC_REDIRECT_URIS   repeatable arg; env is a JSON list or whitespace/comma separated
//   --accounts        / OIDC_ACCOUNTS_FILE   JSON file: [{"sub", "email", "email_verified", "name", ...}]
//   --token-auth-method / OIDC_TOKEN_AUTH_METHOD  client_secret_post (default, what allauth
//                                             picks when discovery lists both) or client_secret_basic
//
// Login/consent use oidc-provider's devInteractions pages: log in by typing an account's
// "sub" (any password), then click "Continue" on the consent page. See README.md.
//
// Prints one line "OIDC_IDP_READY <json>" on stdout once listening.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

function fail(message) {
  console.error(`oidc.mjs: ${message}`);
  process.exit(2);
}

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    issuer: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    accounts: { type: 'string' },
    'token-auth-method': { type: 'string' },
  },
  strict: true,
});

function splitList(value) {
  if (!value) return [];
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed);
  return trimmed.split(/[\s,]+/).filter(Boolean);
}

const port = Number(args.port ?? process.env.OIDC_PORT);
if (!Number.isInteger(port) || port <= 0) fail('--port / OIDC_PORT is required');
const issuer = args.issuer ?? process.env.OIDC_ISSUER ?? `http://127.0.0.1:${port}`;
const clientId = args['client-id'] ?? process.env.OIDC_CLIENT_ID;
const clientSecret = args['client-secret'] ?? process.env.OIDC_CLIENT_SECRET;
const redirectUris = args['redirect-uri'] ?? splitList(process.env.OIDC_REDIRECT_URIS);
const accountsFile = args.accounts ?? process.env.OIDC_ACCOUNTS_FILE;
const tokenAuthMethod = args['token-auth-method'] ?? process.env.OIDC_TOKEN_AUTH_METHOD ?? 'client_secret_post';

if (!clientId) fail('--client-id / OIDC_CLIENT_ID is required');
if (!clientSecret) fail('--client-secret / OIDC_CLIENT_SECRET is required');
if (!redirectUris.length) fail('--redirect-uri / OIDC_REDIRECT_URIS is required');
if (!accountsFile) fail('--accounts / OIDC_ACCOUNTS_FILE is required');

let accountList;
try {
  accountList = JSON.parse(readFileSync(accountsFile, 'utf8'));
} catch (err) {
  fail(`cannot read accounts file ${accountsFile}: ${err.message}`);
}
if (!Array.isArray(accountList)) fail('accounts file must hold a JSON list');
const accounts = new Map();
for (const account of accountList) {
  if (!account || typeof account.sub !== 'string' || !account.sub) {
    fail(`every account needs a non-empty string "sub": ${JSON.stringify(account)}`);
  }
  accounts.set(account.sub, account);
}

// A fresh signing key per run, so no dev keys and no key material on disk.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: `test-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: tokenAuthMethod,
  }],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  },
  features: {
    devInteractions: { enabled: true },
  },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return {
      accountId: id,
      // Everything in the account record is a candidate claim; oidc-provider filters by scope.
      async claims() {
        return { ...account, sub: id };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => console.error('oidc server_error', err));
provider.on('authorization.error', (ctx, err) => console.error('oidc authorization.error', err.message, err.error_description ?? ''));
provider.on('grant.error', (ctx, err) => console.error('oidc grant.error', err.message, err.error_description ?? ''));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`OIDC_IDP_READY ${JSON.stringify({ issuer, port, client_id: clientId, redirect_uris: redirectUris, accounts: [...accounts.keys()] })}`);
});
server.on('error', (err) => fail(`cannot listen on 127.0.0.1:${port}: ${err.message}`));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
