// Signs a user in as the web apps do, with their Cognito library (amazon-cognito-identity-js,
// USER_SRP_AUTH: the password never leaves this process), completes a first login's
// NEW_PASSWORD_REQUIRED step when a new password is given, then calls the API with the ID token.
// It exists so that a client we did not write proves the local Cognito endpoint speaks Cognito
// (tests/e2e/test_web_client_sign_in.py runs it).
//
// Input, one JSON object on stdin:
//   {"endpoint", "userPoolId", "clientId", "username", "password",
//    "newPassword" (optional), "apiUrl", "path", "timeoutMs" (optional, default 30000)}
// Output, one JSON line on stdout:
//   {"ok", "challenges": [...], "status" (the API's), "body" (the API's, as text),
//    "error": {"code", "name", "message"} (on failure), "exchange": [every Cognito call]}
// Exit status: 0 signed in and the API answered 2xx; 1 refused or failed; 2 bad input.

import cognito from 'amazon-cognito-identity-js';

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = cognito;
const REQUIRED = ['endpoint', 'userPoolId', 'clientId', 'username', 'password', 'apiUrl', 'path'];
// What Cognito lets a user send back with NEW_PASSWORD_REQUIRED: none of ours are required,
// and echoing read-only ones (custom attributes the app client cannot write, email) is refused.
const WRITABLE_ON_NEW_PASSWORD = new Set();

function emit(result, exitCode) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(exitCode);
}

async function readInput() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  let input;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new Error(`stdin is not JSON: ${error.message}`);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new Error('stdin must be one JSON object');
  }
  const missing = REQUIRED.filter((name) => typeof input[name] !== 'string' || !input[name]);
  if (missing.length) throw new Error(`missing or not a string: ${missing.join(', ')}`);
  return input;
}

// Every call the library makes to Cognito, as sent and as answered: the record a failure
// against the local endpoint is diagnosed from.
function recordCognitoCalls(endpoint, exchange) {
  const fetchApi = globalThis.fetch;
  globalThis.fetch = async (url, options = {}) => {
    if (String(url) !== endpoint) return fetchApi(url, options);
    const call = {
      target: options.headers?.['X-Amz-Target'],
      request: JSON.parse(options.body ?? 'null'),
    };
    exchange.push(call);
    const response = await fetchApi(url, options);
    call.status = response.status;
    const text = await response.clone().text();
    try {
      call.response = JSON.parse(text);
    } catch {
      call.response = text;
    }
    return response;
  };
}

function signIn(input, challenges) {
  const pool = new CognitoUserPool({
    UserPoolId: input.userPoolId, ClientId: input.clientId, endpoint: input.endpoint,
  });
  const user = new CognitoUser({ Username: input.username, Pool: pool });
  const details = new AuthenticationDetails({
    Username: input.username, Password: input.password,
  });
  return new Promise((resolve, reject) => {
    const callbacks = {
      onSuccess: resolve,
      onFailure: reject,
      newPasswordRequired(userAttributes) {
        challenges.push('NEW_PASSWORD_REQUIRED');
        if (challenges.length > 1) {  // asked again after the new password was sent
          reject(Object.assign(new Error('NEW_PASSWORD_REQUIRED again after a new password'),
            { code: 'UnexpectedChallenge', name: 'UnexpectedChallenge' }));
          return;
        }
        if (!input.newPassword) {
          reject(Object.assign(new Error('a new password is required and none was given'),
            { code: 'NewPasswordRequired', name: 'NewPasswordRequired' }));
          return;
        }
        const writable = Object.fromEntries(Object.entries(userAttributes)
          .filter(([name]) => WRITABLE_ON_NEW_PASSWORD.has(name)));
        user.completeNewPasswordChallenge(input.newPassword, writable, callbacks);
      },
    };
    for (const name of ['mfaRequired', 'totpRequired', 'selectMFAType', 'mfaSetup',
      'customChallenge']) {
      callbacks[name] = () => {
        challenges.push(name);
        reject(Object.assign(new Error(`unexpected challenge: ${name}`),
          { code: 'UnexpectedChallenge', name: 'UnexpectedChallenge' }));
      };
    }
    user.authenticateUser(details, callbacks);
  });
}

async function main() {
  let input;
  try {
    input = await readInput();
  } catch (error) {
    emit({ ok: false, error: { code: 'BadInput', name: 'BadInput', message: error.message } }, 2);
  }
  const exchange = [];
  const challenges = [];
  const timeoutMs = Number.isInteger(input.timeoutMs) ? input.timeoutMs : 30000;
  setTimeout(() => emit({
    ok: false, challenges, exchange,
    error: { code: 'Timeout', name: 'Timeout', message: `no answer within ${timeoutMs} ms` },
  }, 1), timeoutMs);
  recordCognitoCalls(input.endpoint, exchange);
  let session;
  try {
    session = await signIn(input, challenges);
  } catch (error) {
    emit({
      ok: false, challenges, exchange,
      error: { code: error.code ?? null, name: error.name ?? null, message: error.message },
    }, 1);
  }
  const idToken = session.getIdToken().getJwtToken();
  const response = await fetch(new URL(input.path.replace(/^\//, ''),
    input.apiUrl.endsWith('/') ? input.apiUrl : `${input.apiUrl}/`),
  { headers: { Authorization: `Bearer ${idToken}` } });
  const body = await response.text();
  emit({
    ok: response.ok, challenges, exchange, status: response.status, body,
    tokens: {
      id: Boolean(idToken),
      access: Boolean(session.getAccessToken().getJwtToken()),
      refresh: Boolean(session.getRefreshToken().getToken()),
    },
    claims: session.getIdToken().decodePayload(),
  }, response.ok ? 0 : 1);
}

main();
