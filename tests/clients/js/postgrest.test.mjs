// The official PostgREST client against a running Rowbase, as a Supabase user calls it.
// ROWBASE_URL is the server, ROWBASE_DB the SQLite file it serves; expected answers come from
// the sqlite3 command line on that file.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { PostgrestClient } from '@supabase/postgrest-js'

const url = process.env.ROWBASE_URL ?? 'http://127.0.0.1:3000'
const dbPath = process.env.ROWBASE_DB
assert.ok(dbPath, 'ROWBASE_DB must name the SQLite file the server serves')

// supabase-js talks to /rest/v1 and always sends a schema; test both paths.
const client = new PostgrestClient(url)
const supabase = new PostgrestClient(`${url}/rest/v1`, { schema: 'public' })

function sql(query) {
  const out = execFileSync('sqlite3', ['-json', '-readonly', dbPath, query], { encoding: 'utf8' })
  return out.trim() === '' ? [] : JSON.parse(out)
}

test('select with filters and order', async () => {
  const { data, error, status } = await client
    .from('Track')
    .select('TrackId,Name,Milliseconds')
    .gt('Milliseconds', 300000)
    .lte('AlbumId', 10)
    .order('TrackId', { ascending: false })
  assert.equal(error, null)
  assert.equal(status, 200)
  assert.deepEqual(data, sql('SELECT TrackId, Name, Milliseconds FROM Track WHERE Milliseconds > 300000 AND AlbumId <= 10 ORDER BY TrackId DESC'))
})

test('in, or, ilike, is and not filters', async () => {
  const inList = await client.from('Artist').select('ArtistId').in('ArtistId', [1, 3, 5]).order('ArtistId')
  assert.deepEqual(inList.data, [{ ArtistId: 1 }, { ArtistId: 3 }, { ArtistId: 5 }])
  const or = await client.from('Artist').select('ArtistId').or('ArtistId.eq.2,ArtistId.eq.4').order('ArtistId')
  assert.deepEqual(or.data, [{ ArtistId: 2 }, { ArtistId: 4 }])
  const ilike = await client.from('Artist').select('ArtistId').ilike('Name', '%black%').order('ArtistId')
  assert.deepEqual(ilike.data, sql("SELECT ArtistId FROM Artist WHERE lower(Name) LIKE '%black%' ORDER BY ArtistId"))
  const isNull = await client.from('Track').select('TrackId').is('Composer', null).lte('TrackId', 200).order('TrackId')
  assert.deepEqual(isNull.data, sql('SELECT TrackId FROM Track WHERE Composer IS NULL AND TrackId <= 200 ORDER BY TrackId'))
  const notNull = await client.from('Track').select('TrackId').not('Composer', 'is', null).eq('AlbumId', 3)
  assert.deepEqual(notNull.data, sql('SELECT TrackId FROM Track WHERE Composer IS NOT NULL AND AlbumId = 3 ORDER BY TrackId'))
  const names = await client.from('Genre').select('GenreId').in('Name', ['Rock', 'Jazz', 'Heavy Metal, not']).order('GenreId')
  assert.deepEqual(names.data, sql("SELECT GenreId FROM Genre WHERE Name IN ('Rock', 'Jazz') ORDER BY GenreId"))
})

test('range paginates with offset and limit', async () => {
  const { data, count } = await supabase.from('Artist').select('ArtistId', { count: 'exact' }).order('ArtistId').range(10, 19)
  assert.deepEqual(data, sql('SELECT ArtistId FROM Artist ORDER BY ArtistId LIMIT 10 OFFSET 10'))
  assert.equal(count, sql('SELECT count(*) AS n FROM Artist')[0].n)
})

test('single and maybeSingle', async () => {
  const one = await supabase.from('Artist').select('*').eq('ArtistId', 1).single()
  assert.equal(one.error, null)
  assert.deepEqual(one.data, sql('SELECT * FROM Artist WHERE ArtistId = 1')[0])
  const none = await supabase.from('Artist').select('*').eq('ArtistId', 0).single()
  assert.equal(none.data, null)
  assert.equal(none.error.code, 'PGRST116')
  assert.equal(none.status, 406)
  const maybeNone = await supabase.from('Artist').select('*').eq('ArtistId', 0).maybeSingle()
  assert.equal(maybeNone.error, null)
  assert.equal(maybeNone.data, null)
  const maybeOne = await supabase.from('Artist').select('Name').eq('ArtistId', 2).maybeSingle()
  assert.deepEqual(maybeOne.data, sql('SELECT Name FROM Artist WHERE ArtistId = 2')[0])
})

test('head with an exact count', async () => {
  const { data, count, status } = await supabase.from('Track').select('*', { count: 'exact', head: true }).gt('Milliseconds', 400000)
  assert.equal(status, 200)
  assert.equal(data, null)
  assert.equal(count, sql('SELECT count(*) AS n FROM Track WHERE Milliseconds > 400000')[0].n)
})

test('embedding with referenced-table order and limit', async () => {
  const { data, error } = await supabase
    .from('Album')
    .select('Title, Artist(Name), Track(Name, Milliseconds)')
    .lte('AlbumId', 3)
    .order('AlbumId')
    .order('TrackId', { referencedTable: 'Track' })
    .limit(2, { referencedTable: 'Track' })
  assert.equal(error, null)
  const expected = sql('SELECT AlbumId, Title, ArtistId FROM Album WHERE AlbumId <= 3 ORDER BY AlbumId').map((album) => ({
    Title: album.Title,
    Artist: sql(`SELECT Name FROM Artist WHERE ArtistId = ${album.ArtistId}`)[0],
    Track: sql(`SELECT Name, Milliseconds FROM Track WHERE AlbumId = ${album.AlbumId} ORDER BY TrackId LIMIT 2`),
  }))
  assert.deepEqual(data, expected)
})

test('many-to-many and inner joins', async () => {
  const { data } = await client.from('Playlist').select('Name, Track!inner(TrackId)').eq('Track.TrackId', 1).order('PlaylistId')
  const expected = sql('SELECT p.PlaylistId, p.Name FROM Playlist p JOIN PlaylistTrack pt ON pt.PlaylistId = p.PlaylistId WHERE pt.TrackId = 1 ORDER BY p.PlaylistId')
  assert.deepEqual(data, expected.map((p) => ({ Name: p.Name, Track: [{ TrackId: 1 }] })))
})

test('csv output', async () => {
  const { data } = await client.from('Genre').select('GenreId,Name').lte('GenreId', 3).order('GenreId').csv()
  const rows = sql('SELECT GenreId, Name FROM Genre WHERE GenreId <= 3 ORDER BY GenreId')
  assert.equal(data, ['GenreId,Name', ...rows.map((r) => `${r.GenreId},${r.Name}`)].join('\n'))
})

test('errors come back as PostgREST errors', async () => {
  const table = await client.from('Albums').select('*')
  assert.equal(table.status, 404)
  assert.equal(table.error.code, 'PGRST205')
  assert.match(table.error.hint, /Album/)
  const column = await client.from('Album').select('Nope')
  assert.equal(column.error.code, '42703')
  const relation = await client.from('Album').select('Title, Nope(*)')
  assert.equal(relation.error.code, 'PGRST200')
})
