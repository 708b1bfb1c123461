#!/usr/bin/env node
// A real SAML 2.0 IdP (npm "saml-idp") for MA Home's browser SSO tests.
//
// A thin wrapper around saml-idp's own CLI entry point (`main()`), which adds:
//   * listening on 127.0.0.1 only;
//   * a signing cert/key generated at run time with openssl into a temp dir (removed on
//     exit) unless --cert/--key are given;
//   * the user profile (NameID + attributes) from a JSON file, turned into saml-idp's
//     --configFile format ({user, metadata});
//   * one "SAML_IDP_READY <json>" line on stdout once /metadata answers.
//
// Args (CLI, falling back to environment variables):
//   --port      / SAML_PORT        TCP port (required)
//   --issuer    / SAML_ISSUER      IdP entity ID (default http://127.0.0.1:PORT/metadata)
//   --acs-url   / SAML_ACS_URL     SP Assertion Consumer Service URL (required)
//   --audience  / SAML_AUDIENCE    SP entity ID (required; allauth: the SP metadata URL by default)
//   --user      / SAML_USER_FILE   JSON file, e.g. {"userName": "alice@example.com",
//                                  "email": "alice@example.com", "firstName": "Alice", "lastName": "A"}
//                                  "userName" is the NameID (alias "nameId"); "nameIdFormat"
//                                  defaults to ...:1.1:nameid-format:emailAddress. Every other
//                                  key becomes a SAML attribute with exactly that Name (arrays
//                                  become multi-valued attributes).
//   --cert, --key / SAML_CERT_FILE, SAML_KEY_FILE   PEM files (optional)
//
// The login page is saml-idp's profile form; see README.md for its selectors.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`saml.mjs: ${message}`);
  cleanup();
  process.exit(2);
}

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    issuer: { type: 'string' },
    'acs-url': { type: 'string' },
    audience: { type: 'string' },
    user: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
  },
  strict: true,
});

const workDir = mkdtempSync(path.join(tmpdir(), 'saml-idp-'));
function cleanup() {
  try { rmSync(workDir, { recursive: true, force: true }); } catch { /* ignore */ }
}
process.on('exit', cleanup);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => process.exit(0)); // 'exit' handler removes workDir
}

const port = Number(args.port ?? process.env.SAML_PORT);
if (!Number.isInteger(port) || port <= 0) fail('--port / SAML_PORT is required');
const issuer = args.issuer ?? process.env.SAML_ISSUER ?? `http://127.0.0.1:${port}/metadata`;
const acsUrl = args['acs-url'] ?? process.env.SAML_ACS_URL;
const audience = args.audience ?? process.env.SAML_AUDIENCE;
const userFile = args.user ?? process.env.SAML_USER_FILE;
let certFile = args.cert ?? process.env.SAML_CERT_FILE;
let keyFile = args.key ?? process.env.SAML_KEY_FILE;

if (!acsUrl) fail('--acs-url / SAML_ACS_URL is required');
if (!audience) fail('--audience / SAML_AUDIENCE is required');
if (!userFile) fail('--user / SAML_USER_FILE is required');

let user;
try {
  user = JSON.parse(readFileSync(userFile, 'utf8'));
} catch (err) {
  fail(`cannot read user file ${userFile}: ${err.message}`);
}
if (!user || typeof user !== 'object' || Array.isArray(user)) fail('user file must hold a JSON object');

// saml-idp's profile: NameID fields + attribute values (multi-valued ones as "a,b" strings).
const NAMEID_KEYS = new Set(['userName', 'nameIdFormat', 'nameIdNameQualifier', 'nameIdSPNameQualifier', 'nameIdSPProvidedID']);
const profile = { nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' };
const metadata = [];
for (const [key, value] of Object.entries(user)) {
  const k = key === 'nameId' ? 'userName' : key;
  if (NAMEID_KEYS.has(k)) {
    profile[k] = String(value);
    continue;
  }
  const multiValue = Array.isArray(value);
  profile[k] = multiValue ? value.map(String).join(',') : String(value);
  metadata.push({ id: k, optional: true, displayName: k, description: `attribute ${k}`, multiValue });
}
if (!profile.userName) {
  if (!user.email) fail('user needs "userName" (the NameID) or "email"');
  profile.userName = String(user.email);
}
const configFile = path.join(workDir, 'saml-idp-config.json');
writeFileSync(configFile, JSON.stringify({ user: profile, metadata }, null, 2));

if (!certFile || !keyFile) {
  certFile = path.join(workDir, 'idp-cert.pem');
  keyFile = path.join(workDir, 'idp-key.pem');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-idp',
      '-keyout', keyFile, '-out', certFile,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    fail(`openssl failed: ${err.stderr ?? err.message}`);
  }
}

// saml-idp reads PORT/HOST from the environment before its own options: never let them leak in.
delete process.env.PORT;
delete process.env.HOST;

process.argv = [
  process.argv[0], 'saml-idp',
  '--host', '127.0.0.1',
  '--port', String(port),
  '--issuer', issuer,
  '--acsUrl', acsUrl,
  '--audience', audience,
  '--cert', certFile,
  '--key', keyFile,
  '--configFile', configFile,
];
require('saml-idp').main();

const base = `http://127.0.0.1:${port}`;
const started = Date.now();
(async function announce() {
  for (;;) {
    try {
      const res = await fetch(`${base}/metadata`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() - started > 15000) fail('saml-idp did not answer /metadata within 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`SAML_IDP_READY ${JSON.stringify({
    entity_id: issuer,
    metadata_url: `${base}/metadata`,
    sso_url: `${base}/saml/sso`,
    acs_url: acsUrl,
    audience,
    cert_file: certFile,
    user: profile,
  })}`);
})();
