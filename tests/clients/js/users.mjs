// @supabase/supabase-js's auth client, unchanged, against Rowbase's users (`--users`) on the
// newsroom example: a user signs up, reads and writes their own rows through the example's
// policies with the session supabase-js keeps, refreshes it, signs out, and the spent refresh
// token is refused; a password is changed, and recovered through a mailed link (an SMTP sink on
// MAIL_SINK_PORT, which the server was started to send to). Run by scripts/test once per engine,
// after newsroom.mjs, with NEWSROOM_URL.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import { createClient } from '@supabase/supabase-js';

const url = process.env.NEWSROOM_URL;
const engine = process.env.NEWSROOM_ENGINE ?? 'sqlite';
// examples/newsroom/README.md: the demo secret (never for anything real).
const secret = 'newsroom-demo-secret-do-not-use-in-production';

/** A key: an HS256 JWT naming `role` (Node's own crypto). */
function key(role) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ role, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const options = { auth: { persistSession: false, autoRefreshToken: false } };
const client = () => createClient(url, key('anon'), options);

test(`supabase-js signs up, reads its own rows, refreshes and signs out (${engine})`, { skip: !url }, async () => {
  const dana = client();
  const email = `dana.${engine}@example.com`;
  const password = 'a long passphrase of Dana';

  const signUp = await dana.auth.signUp({ email, password, options: { data: { nickname: 'dee' } } });
  assert.equal(signUp.error, null);
  const { user, session } = signUp.data;
  assert.equal(user.email, email);
  assert.deepEqual(user.user_metadata, { nickname: 'dee' });
  assert.ok(session.access_token && session.refresh_token);

  // Her own profile and draft, through the policies, with the session the client now holds.
  let r = await dana.from('profiles').insert({ id: user.id, display_name: 'Dana' });
  assert.equal(r.error, null);
  r = await dana.from('posts').insert({ id: 9001, author_id: user.id, title: "Dana's draft", published: false });
  assert.equal(r.error, null);
  r = await dana.from('posts').select('title').eq('id', 9001);
  assert.deepEqual(r.data, [{ title: "Dana's draft" }]);
  r = await client().from('posts').select('title').eq('id', 9001);
  assert.deepEqual(r.data, [], 'the anonymous role does not see the draft');
  // Not in someone else's name.
  r = await dana.from('posts').insert({ id: 9002, author_id: '00000000-0000-4000-8000-000000000000', title: 'forged' });
  assert.notEqual(r.error, null);

  const got = await dana.auth.getUser();
  assert.equal(got.error, null);
  assert.equal(got.data.user.id, user.id);

  // Refresh: a new refresh token; the spent one is refused afterwards.
  const refreshed = await dana.auth.refreshSession();
  assert.equal(refreshed.error, null);
  assert.notEqual(refreshed.data.session.refresh_token, session.refresh_token);
  r = await dana.from('posts').select('title').eq('id', 9001);
  assert.deepEqual(r.data, [{ title: "Dana's draft" }], 'the refreshed token reads as before');

  // Wrong password: supabase-js's error code; the right one: a new session.
  const other = client();
  const wrong = await other.auth.signInWithPassword({ email, password: 'not her passphrase' });
  assert.equal(wrong.error?.code, 'invalid_credentials');
  const signedIn = await other.auth.signInWithPassword({ email, password });
  assert.equal(signedIn.error, null);
  assert.equal(signedIn.data.user.id, user.id);

  // Sign-out (global: every session of hers); no refresh token of hers works after it.
  const latest = refreshed.data.session.refresh_token;
  assert.equal((await dana.auth.signOut()).error, null);
  const after = await client().auth.refreshSession({ refresh_token: latest });
  assert.equal(after.error?.code, 'refresh_token_not_found');
  const otherAfter = await client().auth.refreshSession({ refresh_token: signedIn.data.session.refresh_token });
  assert.equal(otherAfter.error?.code, 'refresh_token_not_found');
});

test(`supabase-js changes its password, and a service key administers users (${engine})`, { skip: !url }, async () => {
  const erin = client();
  const email = `erin.${engine}@example.com`;
  let r = await erin.auth.signUp({ email, password: 'erin first passphrase' });
  assert.equal(r.error, null);

  // updateUser: a new password and metadata; the old password no longer signs in.
  r = await erin.auth.updateUser({ password: 'erin second passphrase', data: { theme: 'dark' } });
  assert.equal(r.error, null);
  assert.deepEqual(r.data.user.user_metadata, { theme: 'dark' });
  r = await client().auth.signInWithPassword({ email, password: 'erin first passphrase' });
  assert.equal(r.error?.code, 'invalid_credentials');
  r = await client().auth.signInWithPassword({ email, password: 'erin second passphrase' });
  assert.equal(r.error, null);

  // The admin API, with the service key.
  const admin = createClient(url, key('service_role'), options).auth.admin;
  r = await client().auth.admin.listUsers();
  assert.equal(r.error?.code, 'not_admin', 'the anon key is no admin');
  r = await admin.createUser({ email: `frank.${engine}@example.com`, password: 'frank own passphrase', email_confirm: true });
  assert.equal(r.error, null);
  const frank = r.data.user;
  r = await admin.listUsers({ page: 1, perPage: 100 });
  assert.equal(r.error, null);
  assert.ok(r.data.users.some((u) => u.id === frank.id));
  r = await admin.updateUserById(frank.id, { user_metadata: { level: 2 }, ban_duration: '1h' });
  assert.equal(r.error, null);
  assert.deepEqual(r.data.user.user_metadata, { level: 2 });
  r = await client().auth.signInWithPassword({ email: frank.email, password: 'frank own passphrase' });
  assert.equal(r.error?.code, 'invalid_credentials', 'a banned user does not sign in');
  r = await admin.deleteUser(frank.id);
  assert.equal(r.error, null);
  r = await admin.getUserById(frank.id);
  assert.equal(r.error?.code, 'user_not_found');
});

/** A local SMTP sink on `port`: it answers as a mail server would and keeps each message. */
function smtpSink(port) {
  const messages = [];
  const server = createServer((socket) => {
    let buffer = '';
    let data = null;
    socket.write('220 sink ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let end;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data !== null) {
          if (line === '.') {
            messages.push(data.replace(/=\n/g, '').replace(/=3D/g, '='));
            data = null;
            socket.write('250 kept\r\n');
          } else {
            data += line + '\n';
          }
          continue;
        }
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'DATA') {
          data = '';
          socket.write('354 end with <CRLF>.<CRLF>\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 bye\r\n');
        } else {
          socket.write(verb === 'EHLO' || verb === 'HELO' ? '250 sink\r\n' : '250 OK\r\n');
        }
      }
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ messages, close: () => server.close() })));
}

const sinkPort = process.env.MAIL_SINK_PORT;

test(`supabase-js recovers a password by mail (${engine})`, { skip: !url || !sinkPort }, async () => {
  const sink = await smtpSink(Number(sinkPort));
  try {
    const email = `grace.${engine}@example.com`;
    let r = await client().auth.signUp({ email, password: 'grace first passphrase' });
    assert.equal(r.error, null);

    r = await client().auth.resetPasswordForEmail(email);
    assert.equal(r.error, null);
    assert.equal(sink.messages.length, 1);
    const token = sink.messages[0].match(/token=([A-Za-z0-9_-]+)/)[1];

    const grace = client();
    r = await grace.auth.verifyOtp({ token_hash: token, type: 'recovery' });
    assert.equal(r.error, null);
    assert.equal(r.data.user.email, email);
    r = await grace.auth.updateUser({ password: 'grace new passphrase' });
    assert.equal(r.error, null);
    r = await client().auth.signInWithPassword({ email, password: 'grace new passphrase' });
    assert.equal(r.error, null);

    r = await client().auth.verifyOtp({ token_hash: token, type: 'recovery' });
    assert.equal(r.error?.code, 'otp_expired', 'a link works once');
  } finally {
    sink.close();
  }
});
