// @supabase/supabase-js, unchanged, against Rowbase serving the newsroom example
// (examples/newsroom) with its demo secret: createClient(url, anonKey) sees what the anonymous
// role may see; the same client with a user's token sees that user's drafts too, and cannot
// write in another user's name. Run by scripts/test once per engine, with NEWSROOM_URL set and
// a freshly migrated, empty database.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';

const url = process.env.NEWSROOM_URL;
const engine = process.env.NEWSROOM_ENGINE ?? 'sqlite';
// examples/newsroom/README.md: the demo secret (never for anything real).
const secret = 'newsroom-demo-secret-do-not-use-in-production';
const ALICE = 'a1a1a1a1-0000-4000-8000-000000000001';
const BOB = 'b2b2b2b2-0000-4000-8000-000000000002';

/** An HS256 JWT with these claims, valid for an hour (Node's own crypto, no JWT library). */
function sign(claims) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const anonKey = sign({ role: 'anon' });
const serviceKey = sign({ role: 'service_role' });
const options = { auth: { persistSession: false, autoRefreshToken: false } };
/** A client as a signed-in user's app has it: the anon key, and the user's access token. */
const as = (token) =>
  createClient(url, anonKey, { ...options, global: { headers: { Authorization: `Bearer ${token}` } } });

const anon = createClient(url, anonKey, options);
const service = createClient(url, serviceKey, options);
const alice = as(sign({ sub: ALICE, role: 'authenticated' }));
const bob = as(sign({ sub: BOB, role: 'authenticated' }));

test(`supabase-js sees only what each role may (${engine})`, { skip: !url }, async () => {
  let r = await service.from('profiles').insert([
    { id: ALICE, display_name: 'Alice', email: 'alice@example.com' },
    { id: BOB, display_name: 'Bob', email: 'bob@example.com' },
  ]);
  assert.equal(r.error, null);
  r = await alice
    .from('posts')
    .insert([
      { id: 1, author_id: ALICE, title: 'Hello', published: true },
      { id: 2, author_id: ALICE, title: 'Draft', published: false },
    ])
    .select('id,title');
  assert.equal(r.error, null);
  assert.deepEqual(r.data, [{ id: 1, title: 'Hello' }, { id: 2, title: 'Draft' }]);
  r = await bob.from('posts').insert({ id: 3, author_id: BOB, title: 'Bob drafts', published: false });
  assert.equal(r.error, null);

  // Anonymous: published posts only, and profiles without their email.
  r = await anon.from('posts').select('id,title').order('id');
  assert.deepEqual(r.data, [{ id: 1, title: 'Hello' }]);
  r = await anon.from('profiles').select('display_name,email');
  assert.equal(r.status, 401);
  assert.equal(r.error.code, '42501');

  // Each user: the published post and their own drafts; the counts agree.
  r = await alice.from('posts').select('id', { count: 'exact' }).order('id');
  assert.deepEqual(r.data, [{ id: 1 }, { id: 2 }]);
  assert.equal(r.count, 2);
  r = await bob.from('posts').select('id').order('id');
  assert.deepEqual(r.data, [{ id: 1 }, { id: 3 }]);
  r = await bob.from('posts').select('id').eq('id', 2).maybeSingle();
  assert.equal(r.data, null);

  // Writing in someone else's name, or over their rows: refused or nothing touched.
  r = await bob.from('posts').insert({ id: 4, author_id: ALICE, title: 'Forged' });
  assert.equal(r.status, 403);
  assert.equal(r.error.code, '42501');
  r = await bob.from('posts').update({ title: 'Defaced' }).eq('id', 1).select('id');
  assert.deepEqual(r.data, []);
  r = await bob.from('posts').upsert({ id: 2, author_id: BOB, title: 'Mine now' }).select('id');
  assert.equal(r.error.code, '42501');
  r = await alice.from('posts').update({ author_id: BOB }).eq('id', 1);
  assert.equal(r.error.code, '42501');

  // What the service role sees: every row, unchanged by the refused writes.
  r = await service.from('posts').select('id,author_id,title').order('id');
  assert.deepEqual(r.data, [
    { id: 1, author_id: ALICE, title: 'Hello' },
    { id: 2, author_id: ALICE, title: 'Draft' },
    { id: 3, author_id: BOB, title: 'Bob drafts' },
  ]);

  // A token signed with another secret.
  const forged = as(sign({ sub: BOB, role: 'authenticated' }).replace(/\.[^.]+$/, '.AAAA'));
  r = await forged.from('posts').select('id');
  assert.equal(r.status, 401);
  assert.equal(r.error.code, 'PGRST301');
});
