// Writes through the official PostgREST client: insert, bulk insert, upsert, update, delete,
// dry runs and max-affected, on the ClientNote table the test script adds to the Chinook copy.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { PostgrestClient } from '@supabase/postgrest-js'

const url = process.env.ROWBASE_URL ?? 'http://127.0.0.1:3000'
const dbPath = process.env.ROWBASE_DB
const supabase = new PostgrestClient(`${url}/rest/v1`, { schema: 'public' })

function sql(query) {
  const out = execFileSync('sqlite3', ['-json', '-readonly', dbPath, query], { encoding: 'utf8' })
  return out.trim() === '' ? [] : JSON.parse(out)
}

test('insert one row and read it back with an embed', async () => {
  const { data, error, status } = await supabase
    .from('ClientNote')
    .insert({ ArtistId: 1, Slug: 'js-one', Body: 'hello' })
    .select('Slug, Body, Artist(Name)')
  assert.equal(error, null)
  assert.equal(status, 201)
  assert.deepEqual(data, [{ Slug: 'js-one', Body: 'hello', Artist: { Name: 'AC/DC' } }])
  assert.deepEqual(sql("SELECT Body FROM ClientNote WHERE Slug = 'js-one'"), [{ Body: 'hello' }])
})

test('bulk insert with different keys per row', async () => {
  const { error, status } = await supabase.from('ClientNote').insert([
    { ArtistId: 2, Slug: 'js-bulk-1', Body: 'a' },
    { ArtistId: 3, Slug: 'js-bulk-2' },
  ])
  assert.equal(error, null)
  assert.equal(status, 201)
  assert.deepEqual(sql("SELECT Slug, Body FROM ClientNote WHERE Slug LIKE 'js-bulk-%' ORDER BY Slug"), [
    { Slug: 'js-bulk-1', Body: 'a' },
    { Slug: 'js-bulk-2', Body: null },
  ])
})

test('upsert on a unique column', async () => {
  await supabase.from('ClientNote').insert({ ArtistId: 1, Slug: 'js-up', Body: 'before' })
  const { data, status } = await supabase
    .from('ClientNote')
    .upsert([{ ArtistId: 1, Slug: 'js-up', Body: 'after' }, { ArtistId: 1, Slug: 'js-up-new', Body: 'new' }], { onConflict: 'Slug' })
    .select('Slug, Body')
  assert.equal(status, 201)
  assert.deepEqual(data, [{ Slug: 'js-up', Body: 'after' }, { Slug: 'js-up-new', Body: 'new' }])
  const ignored = await supabase
    .from('ClientNote')
    .upsert({ ArtistId: 1, Slug: 'js-up', Body: 'ignored' }, { onConflict: 'Slug', ignoreDuplicates: true })
    .select()
  assert.deepEqual(ignored.data, [])
  assert.deepEqual(sql("SELECT Body FROM ClientNote WHERE Slug = 'js-up'"), [{ Body: 'after' }])
})

test('update and delete with filters', async () => {
  await supabase.from('ClientNote').insert([
    { ArtistId: 5, Slug: 'js-upd1', Body: 'x' },
    { ArtistId: 5, Slug: 'js-upd2', Body: 'x' },
  ])
  const updated = await supabase.from('ClientNote').update({ Body: 'patched' }).like('Slug', 'js-upd*').select('Slug, Body').order('Slug')
  assert.deepEqual(updated.data, [{ Slug: 'js-upd1', Body: 'patched' }, { Slug: 'js-upd2', Body: 'patched' }])
  const deleted = await supabase.from('ClientNote').delete().eq('Slug', 'js-upd1')
  assert.equal(deleted.status, 204)
  assert.deepEqual(sql("SELECT Slug FROM ClientNote WHERE Slug LIKE 'js-upd%'"), [{ Slug: 'js-upd2' }])
  const counted = await supabase.from('ClientNote').delete({ count: 'exact' }).eq('Slug', 'js-upd2')
  assert.equal(counted.count, 1)
})

test('dry runs and max-affected roll back', async () => {
  const dry = await supabase.from('ClientNote').insert({ ArtistId: 1, Slug: 'js-dry', Body: 'ghost' }).select('Slug').rollback()
  assert.deepEqual(dry.data, [{ Slug: 'js-dry' }])
  assert.deepEqual(sql("SELECT Slug FROM ClientNote WHERE Slug = 'js-dry'"), [])
  await supabase.from('ClientNote').insert([
    { ArtistId: 1, Slug: 'js-m1', Body: 'm' },
    { ArtistId: 1, Slug: 'js-m2', Body: 'm' },
  ])
  const limited = await supabase.from('ClientNote').update({ Body: 'changed' }).like('Slug', 'js-m*').maxAffected(1)
  assert.equal(limited.error.code, 'PGRST124')
  assert.deepEqual(sql("SELECT DISTINCT Body FROM ClientNote WHERE Slug LIKE 'js-m%'"), [{ Body: 'm' }])
})

test('constraint errors come back with their codes', async () => {
  const fk = await supabase.from('ClientNote').insert({ ArtistId: 999999, Slug: 'js-fk' })
  assert.equal(fk.status, 409)
  assert.equal(fk.error.code, '23503')
  assert.match(fk.error.details, /ArtistId/)
  await supabase.from('ClientNote').insert({ ArtistId: 1, Slug: 'js-dup' })
  const dup = await supabase.from('ClientNote').insert({ ArtistId: 1, Slug: 'js-dup' })
  assert.equal(dup.error.code, '23505')
  const notNull = await supabase.from('ClientNote').insert({ Slug: 'js-nn' })
  assert.equal(notNull.error.code, '23502')
  const unknown = await supabase.from('ClientNote').insert({ ArtistId: 1, Slug: 'js-x', Colour: 'red' })
  assert.equal(unknown.error.code, 'PGRST204')
})
