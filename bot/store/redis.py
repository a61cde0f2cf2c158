"""The store for several worker processes sharing one Redis.

Why it is shaped like this:

- Every write that can race (conversation state, case update plus its events) is one Lua
  script: Redis runs a script without interleaving anything else, so the version check,
  the write and the event appends are one compare-and-set. A stale write changes nothing.
- A case is one list (see "Case keys" below): its version, customer and record, then its
  history, appended in the same script that checks the version, so two workers can never
  give two events the same number: an event's seq is its position in the list, never
  stored. Memory is what bounds Redis, so every case costs one key, records are stored
  without their defaults, and the indexes are sorted sets small enough for Redis's compact
  (listpack) encoding: a customer's cases in buckets of 100 by case number.
- The audit is a log never trimmed by count (see "Audit keys" below): entries numbered by a
  counter and kept in lists of 1,000 (listpack-encoded: an entry costs its JSON and a few
  bytes), so an entry is found from its number alone (retention and erasure rewrite it in
  place) and the log is paged from any number (export). A case's audit entries are those
  of the log that name it, read newest first: an operator's question, not a hot path.
  Refusals are rate-limited before they get here (bot/audit.py). Once-only keys are
  `SET NX EX`, counters `INCR` with an expiry. Case numbers are `INCR`.
- Every key starts with the prefix, so deployments (and tests) can share one Redis.
- The URL may carry a password: messages and logs only ever show it redacted.
- The outbox is a few structures moved between by scripts (see "Outbox keys" below): a
  sorted set of the items a worker may claim (only the first pending item of each case,
  scored by due time), a sorted set of leased items (scored by lease expiry), and a FIFO
  list per case. A claim reads the first due members of the first set with
  `ZRANGEBYSCORE … LIMIT`, so it costs O(log N + limit), whatever is queued behind.
- Case timers (see "Timer keys" below) follow the same pattern with less: a case not
  leased is nothing but one member of a sorted set scored by its due time, so a million
  scheduled cases cost a million sorted-set entries and nothing else, and a claim costs
  O(log N + limit). Only leased cases carry more: one field of a hash, with the holder.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.client import NEVER_DECODE
from redis.commands.core import AsyncScript
from redis.exceptions import AuthenticationError, AuthorizationError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.errors import StaleWriteError, StoreError
from bot.records import (
    OPEN_STATUSES,
    AttachmentRecord,
    AuditRecord,
    AuthorisedUser,
    CaseEventRecord,
    CaseRecord,
    OutboxItem,
)
from bot.store._codec import (
    OUTBOX_DELIVERED_TTL_SECONDS,
    clean_error,
    dump_case,
    dump_event,
    dump_record,
    dump_state,
    epoch_micros,
    from_epoch_micros,
    ignored_release,
    ignored_settlement,
    load_case,
    load_event,
    load_state,
    own_events,
    parse,
    rewritten_history,
    sorted_attachments,
)
from bot.store.evidence_redis import RedisEvidence

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 64  # per process; a call waits for a free one (up to POOL_WAIT_SECONDS)
POOL_WAIT_SECONDS = 30
AUDIT_BUCKET = 1_000  # audit entries per list (P audit:log:<b>)
AUDIT_MIGRATE_BATCH = 500  # entries of the earlier capped audit list moved per script call
BUCKET = 100  # cases per index bucket: below zset-max-listpack-entries (128 by default)
MIGRATE_BATCH = 500  # legacy cases moved to the case lists per script call

# KEYS[1] the conversation hash. ARGV: expected version, "1" to write / "0" to delete, JSON.
# Returns {1, new version} or {0, current version} when stale.
_SAVE_CONVERSATION = """
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return {0, current} end
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
  return {1, 0}
end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'version', current + 1)
return {1, current + 1}
"""

# -- Case keys (P is the store prefix) ----------------------------------------------------------
#
#   P c:<id>                list: version, customer id, index bucket, the CaseRecord (stored by
#                           bot.store._codec.dump_case), then the case's events, oldest first
#                           (JSON without defaults, case_id and seq: those follow from the key
#                           and the position; seq = position - 3)
#   P ix:<customer>:<b>     zset: the customer's cases numbered 100·b … 100·b + 99; score =
#                           created_at in microseconds since the epoch
#   P ixo:<customer>:<b>    zset: the open ones among them (gone once empty)
#   P ixb:<customer>        set of the b of the customer's ix buckets
#   P ixob:<customer>       set of the b of its non-empty ixo buckets
#   P customers             set of the customers that have cases
#   P att:<customer>        hash: attachment id → AttachmentRecord JSON (without defaults)
#
# A bucket of up to 100 members stays listpack-encoded (zset-max-listpack-entries, 128 by
# default): about 20 bytes an entry instead of about 100 in a skiplist. Scripts compute the
# index key names from the prefix (ARGV[1]), so they suit one Redis server, not Cluster.
#
# Stores before this layout kept a hash per case (P case:<id>), an event list (P events:<id>),
# four index zsets (P cases:all, cases:open, cases:customer:<c>, cases:customer-open:<c>)
# and a per-case audit list (P audit:case:<id>). `open` moves such cases to the case lists
# (_MIGRATE_CASES); a per-case audit list stays and is still read (for that case only).

_CASE_HELPERS = """
local base = ARGV[1]
local function drop_open(id, customer, bucket)
  local ixo = base .. 'ixo:' .. customer .. ':' .. bucket
  if redis.call('ZREM', ixo, id) == 1 and redis.call('EXISTS', ixo) == 0 then
    redis.call('SREM', base .. 'ixob:' .. customer, bucket)
  end
end
local function index(id, customer, bucket, score, open, old_bucket)
  local ix = base .. 'ix:' .. customer .. ':'
  if old_bucket and old_bucket ~= bucket then
    redis.call('ZREM', ix .. old_bucket, id)
    drop_open(id, customer, old_bucket)
  end
  redis.call('ZADD', ix .. bucket, score, id)
  redis.call('SADD', base .. 'ixb:' .. customer, bucket)
  redis.call('SADD', base .. 'customers', customer)
  if open == '1' then
    redis.call('ZADD', base .. 'ixo:' .. customer .. ':' .. bucket, score, id)
    redis.call('SADD', base .. 'ixob:' .. customer, bucket)
  else
    drop_open(id, customer, bucket)
  end
end
-- The case list's head {version, customer, bucket} if the case is the customer's and at the
-- expected version; else nil and what the script returns.
local function checked_head(customer, expected)
  local head = redis.call('LRANGE', KEYS[1], 0, 2)
  if #head == 0 then return nil, {-1, 0} end
  if head[2] ~= customer then return nil, {-2, 0} end
  if tonumber(head[1]) ~= tonumber(expected) then return nil, {0, tonumber(head[1])} end
  return head, nil
end
"""

# KEYS: the case list, the legacy case hash. ARGV: base, id, customer, bucket, score,
# "1" if open, <unused>, record, event…  Returns 1 when created, 0 when the id exists.
_CREATE_CASE = (
    _CASE_HELPERS
    + """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('RPUSH', KEYS[1], 1, ARGV[3], ARGV[4], unpack(ARGV, 8))
index(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], nil)
return 1
"""
)

# KEYS: the case list. ARGV as for create, ARGV[7] the expected version.
# Returns {1, new version}, {0, current version} when stale, {-1, 0} when there is no such
# case, {-2, 0} when the case belongs to another customer.
_UPDATE_CASE = (
    _CASE_HELPERS
    + """
local head, refused = checked_head(ARGV[3], ARGV[7])
if refused then return refused end
local current = tonumber(head[1])
redis.call('LSET', KEYS[1], 0, current + 1)
if head[3] ~= ARGV[4] then redis.call('LSET', KEYS[1], 2, ARGV[4]) end
redis.call('LSET', KEYS[1], 3, ARGV[8])
for i = 9, #ARGV, 1000 do  -- unpack's limit on arguments is far above any batch of events
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
index(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], head[3])
return {1, current + 1}
"""
)

# ARGV: base, "1" for open cases only, customer ids (none: every customer).
# Returns per indexed case 2 values: id, score.
_LIST_CASES = """
local base, open = ARGV[1], ARGV[2] == '1'
local customers = {}
if #ARGV > 2 then
  for i = 3, #ARGV do customers[#customers + 1] = ARGV[i] end
else
  customers = redis.call('SMEMBERS', base .. 'customers')
end
local out = {}
for _, customer in ipairs(customers) do
  local kind = open and 'ixo:' or 'ix:'
  local buckets = redis.call('SMEMBERS', base .. (open and 'ixob:' or 'ixb:') .. customer)
  for _, b in ipairs(buckets) do
    local found = redis.call('ZRANGE', base .. kind .. customer .. ':' .. b, 0, -1, 'WITHSCORES')
    for i = 1, #found do out[#out + 1] = found[i] end
  end
end
return out
"""

# -- Audit keys (P is the store prefix) ---------------------------------------------------------
#
#   P audit:seq             counter: the number (seq) of the last audit entry
#   P audit:log:<b>         list: entries b·1000 + 1 … b·1000 + 1000 (AuditRecord JSON without
#                           defaults), oldest first: entry seq is at index (seq - 1) % 1000
#
# Entries are numbered and pushed in one script, so a list's length is always its last
# entry's position. Stores before this layout kept one list, newest first, capped at
# 10,000 entries (P audit): `open` moves it into the log (_MIGRATE_AUDIT), oldest first.

# KEYS: the seq counter. ARGV: the log's key prefix, entries per list, entries.
# Returns the last entry's seq.
_APPEND_AUDIT = """
local size, seq = tonumber(ARGV[2]), 0
for i = 3, #ARGV do
  seq = redis.call('INCR', KEYS[1])
  redis.call('RPUSH', ARGV[1] .. math.floor((seq - 1) / size), ARGV[i])
end
return seq
"""

# KEYS: one list of the log. ARGV: a needle, the most to return.
# Returns per entry containing the needle, newest first, 2 values: its index, its JSON.
_AUDIT_MATCHES = """
local out, limit = {}, tonumber(ARGV[2])
local stop = redis.call('LLEN', KEYS[1]) - 1
while stop >= 0 do
  local start = math.max(0, stop - 199)
  local batch = redis.call('LRANGE', KEYS[1], start, stop)
  for j = #batch, 1, -1 do
    if string.find(batch[j], ARGV[1], 1, true) then
      out[#out + 1] = start + j - 1
      out[#out + 1] = batch[j]
      if #out >= 2 * limit then return out end
    end
  end
  stop = start - 1
end
return out
"""

# KEYS: the earlier capped list (newest first), the seq counter. ARGV: the log's key prefix,
# entries per list, the most to move. Returns how many entries the earlier list still holds.
_MIGRATE_AUDIT = """
local size = tonumber(ARGV[2])
for _ = 1, tonumber(ARGV[3]) do
  local entry = redis.call('RPOP', KEYS[1])
  if not entry then break end
  local seq = redis.call('INCR', KEYS[2])
  redis.call('RPUSH', ARGV[1] .. math.floor((seq - 1) / size), entry)
end
return redis.call('LLEN', KEYS[1])
"""

# KEYS: the counter. ARGV: seconds it lives after its first count. Returns its new value.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""

# KEYS: the case list. ARGV as for update, then the number n of events stored, the n
# events rewritten (seq 1…n) and the events to append. Returns as _UPDATE_CASE, and
# {-3, stored count} when n is not the number of events stored.
_REWRITE_CASE = (
    _CASE_HELPERS
    + """
local head, refused = checked_head(ARGV[3], ARGV[7])
if refused then return refused end
local current = tonumber(head[1])
local n, stored = tonumber(ARGV[9]), redis.call('LLEN', KEYS[1]) - 4
if stored ~= n then return {-3, stored} end
redis.call('LSET', KEYS[1], 0, current + 1)
redis.call('LSET', KEYS[1], 3, ARGV[8])
for i = 1, n do redis.call('LSET', KEYS[1], 3 + i, ARGV[9 + i]) end
for i = 10 + n, #ARGV, 1000 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
index(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], head[3])
return {1, current + 1}
"""
)

# Moves legacy cases (see "Case keys") to the case lists. ARGV: base, bucket size, case ids
# (members of the legacy P cases:all). Idempotent: a case already moved is only unindexed.
_MIGRATE_CASES = (
    _CASE_HELPERS
    + """
local open_statuses = {new = true, acknowledged = true, in_progress = true,
                       waiting_on_customer = true, workaround_provided = true}
for i = 3, #ARGV do
  local id = ARGV[i]
  local score = redis.call('ZSCORE', base .. 'cases:all', id)
  local old, events, list = base .. 'case:' .. id, base .. 'events:' .. id, base .. 'c:' .. id
  local f = redis.call('HMGET', old, 'data', 'version', 'customer_id', 'status')
  local customer = f[3]
  local number = nil
  if f[1] then
    local ok, record = pcall(cjson.decode, f[1])
    if ok and type(record) == 'table' then number = tonumber(record.number) end
  end
  if f[1] and not number then
    -- unreadable: left as it was, listed for an operator, never blocking the others
    redis.call('ZADD', base .. 'cases:unmigrated', score or 0, id)
    redis.call('ZREM', base .. 'cases:all', id)
  else
    if f[1] and redis.call('EXISTS', list) == 0 then
      local bucket = tostring(math.floor(number / tonumber(ARGV[2])))
      redis.call('RPUSH', list, f[2], customer, bucket, f[1])
      local n = redis.call('LLEN', events)
      for start = 0, n - 1, 500 do
        local batch = redis.call('LRANGE', events, start, start + 499)
        redis.call('RPUSH', list, unpack(batch))
      end
      index(id, customer, bucket, score, open_statuses[f[4]] and '1' or '0', nil)
    end
    redis.call('DEL', old, events)
    redis.call('ZREM', base .. 'cases:all', id)
    redis.call('ZREM', base .. 'cases:open', id)
    if customer then
      redis.call('ZREM', base .. 'cases:customer:' .. customer, id)
      redis.call('ZREM', base .. 'cases:customer-open:' .. customer, id)
    end
  end
end
return redis.call('ZCARD', base .. 'cases:all')
"""
)

# -- Outbox keys (P is the store prefix) --------------------------------------------------------
#
#   P outbox:seq            counter: enqueue order
#   P outbox:ids            set of the ids of pending items (SCARD = outbox_pending)
#   P outbox:ready          zset of claimable candidates: items without a case and the first
#                           pending item of each case, while not leased; score = due_at in
#                           microseconds since the epoch (exact in a double until 2255)
#   P outbox:leased         zset of leased items; score = lease expiry in microseconds
#   P outbox:item:<id>      hash: data (the item's JSON as enqueued), key, case, has_case,
#                           member, due, due_iso (after a defer), attempts, error,
#                           worker (the lease holder, until deferred), lease_until
#   P outbox:key:<key>      the id while pending; "delivered" with a 7-day expiry after
#   P outbox:case:<case>    list of the members of the case's pending items, oldest first
#
# Members of the zsets and case lists are "<seq, 16 digits>:<id>", so items due at the same
# microsecond come out in enqueue order. Scores are always passed to Redis as the strings
# Python made: Lua would print a computed 16-digit number with 14 significant digits.
# The scripts compute the per-item key names from the prefix (ARGV[1]), so they suit one
# Redis server (or a replicated primary), not Redis Cluster.

_OUTBOX_HELPERS = """
local base = ARGV[1]
local function item_key(member) return base .. 'item:' .. string.sub(member, 18) end
"""

# KEYS: seq, ids, ready. ARGV: base, then per item 9 values: id, key, has_case, case, due,
# data, attempts, has_error, error. Returns {added} or {-1, id} when an id already exists
# (then nothing is written).
_ENQUEUE_OUTBOX = (
    _OUTBOX_HELPERS
    + """
local keys_seen, ids_seen, fresh = {}, {}, {}
for i = 2, #ARGV, 9 do
  local id, key = ARGV[i], ARGV[i + 1]
  if not keys_seen[key] and redis.call('EXISTS', base .. 'key:' .. key) == 0 then
    keys_seen[key] = true
    if ids_seen[id] or redis.call('SISMEMBER', KEYS[2], id) == 1 then return {-1, id} end
    ids_seen[id] = true
    fresh[#fresh + 1] = i
  end
end
for _, i in ipairs(fresh) do
  local id, key, has_case, case, due = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local member = string.format('%016d', redis.call('INCR', KEYS[1])) .. ':' .. id
  local k = base .. 'item:' .. id
  redis.call('HSET', k, 'data', ARGV[i + 5], 'key', key, 'has_case', has_case, 'case', case,
             'member', member, 'due', due, 'attempts', ARGV[i + 6])
  if ARGV[i + 7] == '1' then redis.call('HSET', k, 'error', ARGV[i + 8]) end
  redis.call('SET', base .. 'key:' .. key, id)
  redis.call('SADD', KEYS[2], id)
  local head = true
  if has_case == '1' then
    head = redis.call('RPUSH', base .. 'case:' .. case, member) == 1
  end
  if head then redis.call('ZADD', KEYS[3], due, member) end
end
return {#fresh}
"""
)

# KEYS: ready, leased. ARGV: base, now, lease expiry, limit, worker, most expired to reclaim.
# Returns per claimed item 5 values: data, due_iso or '', attempts, has_error, error.
_CLAIM_OUTBOX = (
    _OUTBOX_HELPERS
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, ARGV[6])
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[2], member)
  local due = redis.call('HGET', item_key(member), 'due')
  if due then redis.call('ZADD', KEYS[1], due, member) end  -- the holder stays recorded
end
local out = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[4])
for _, member in ipairs(due) do
  local k = item_key(member)
  redis.call('ZREM', KEYS[1], member)
  local f = redis.call('HMGET', k, 'data', 'due_iso', 'attempts', 'error')
  if f[1] then
    redis.call('ZADD', KEYS[2], ARGV[3], member)
    redis.call('HSET', k, 'worker', ARGV[5], 'lease_until', ARGV[3])
    out[#out + 1] = f[1]
    out[#out + 1] = f[2] or ''
    out[#out + 1] = f[3] or '0'
    out[#out + 1] = f[4] and '1' or '0'
    out[#out + 1] = f[4] or ''
  end
end
return out
"""
)

# KEYS: ready, leased, ids. ARGV: base, id, worker, delivered-key TTL in seconds.
# Returns {1, ''} when completed, {0, ''} when there is no such item, {-1, holder} otherwise.
_COMPLETE_OUTBOX = (
    _OUTBOX_HELPERS
    + """
local k = base .. 'item:' .. ARGV[2]
local f = redis.call('HMGET', k, 'worker', 'member', 'key', 'has_case', 'case')
if not f[2] then return {0, ''} end
if f[1] ~= ARGV[3] then return {-1, f[1] or ''} end
redis.call('ZREM', KEYS[1], f[2])
redis.call('ZREM', KEYS[2], f[2])
redis.call('DEL', k)
redis.call('SREM', KEYS[3], ARGV[2])
redis.call('SET', base .. 'key:' .. f[3], 'delivered', 'EX', ARGV[4])
if f[4] == '1' then
  local list = base .. 'case:' .. f[5]
  redis.call('LREM', list, 1, f[2])  -- the head, so found at once
  local nxt = redis.call('LINDEX', list, 0)
  if nxt and not redis.call('ZSCORE', KEYS[2], nxt) then
    local due = redis.call('HGET', item_key(nxt), 'due')
    if due then redis.call('ZADD', KEYS[1], due, nxt) end
  end
end
return {1, ''}
"""
)

# KEYS: ready, leased. ARGV: base, id, worker, due (micros), due ISO text, error.
# Returns like _COMPLETE_OUTBOX.
_DEFER_OUTBOX = """
local k = ARGV[1] .. 'item:' .. ARGV[2]
local f = redis.call('HMGET', k, 'worker', 'member')
if not f[2] then return {0, ''} end
if f[1] ~= ARGV[3] then return {-1, f[1] or ''} end
redis.call('ZREM', KEYS[2], f[2])
redis.call('ZADD', KEYS[1], ARGV[4], f[2])
redis.call('HSET', k, 'due', ARGV[4], 'due_iso', ARGV[5], 'error', ARGV[6])
if ARGV[7] ~= '0' then redis.call('HINCRBY', k, 'attempts', 1) end
redis.call('HDEL', k, 'worker', 'lease_until')
return {1, ''}
"""

RECLAIM_BATCH = 1_000  # most expired leases returned to the claimable set per claim

# -- Timer keys (P is the store prefix) ---------------------------------------------------------
#
#   P timers:due      zset: member case id, score due_at in microseconds since the epoch; the
#                     cases a claim may take (not leased, or whose lease ran out)
#   P timers:leased   zset: member case id, score lease expiry in microseconds
#   P timers:lease    hash: field case id, value "<due>:<pending>:<holder>" while a holder is
#                     recorded: the due score the case was claimed at, a moment scheduled
#                     while leased ('' when none) and the worker. Kept after the lease ran
#                     out (and the case went back to timers:due) until it is released or
#                     claimed again, so a late holder may still release it.
#
# A case is in at most one of the zsets, so ZCARD(due) + ZCARD(leased) = scheduled_cases.
# Every key is passed in KEYS. Scores go in as Python's integer text, or as Redis printed
# them (WITHSCORES): Lua compares them with tonumber (exact below 2^53 µs, the year 2255)
# but never prints a number it computed.

_TIMER_HELPERS = """
local function lease_of(v)  -- due, pending ('' when none), holder
  return string.match(v, '^([^:]*):([^:]*):(.*)$')
end
"""

# KEYS: due, lease. ARGV: case id, due (micros) or '' to remove.
# Returns 1 when scheduled (or removed), 0 when noted as pending behind a recorded holder.
_SCHEDULE_CASE = (
    _TIMER_HELPERS
    + """
local v = redis.call('HGET', KEYS[2], ARGV[1])
if v then
  local due, _, holder = lease_of(v)
  redis.call('HSET', KEYS[2], ARGV[1], due .. ':' .. ARGV[2] .. ':' .. holder)
  return 0
end
if ARGV[2] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
return 1
"""
)

# KEYS: due, leased, lease. ARGV: now, lease expiry, limit, worker, most expired to reclaim.
# Returns per claimed case 2 values: case id, due (as Redis prints the score).
_CLAIM_DUE_CASES = (
    _TIMER_HELPERS
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[5])
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  local v = redis.call('HGET', KEYS[3], id)
  if v then redis.call('ZADD', KEYS[1], (lease_of(v)), id) end  -- the holder stays recorded
end
local out = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
for i = 1, #due, 2 do
  local id, score = due[i], due[i + 1]
  local pending = ''
  local v = redis.call('HGET', KEYS[3], id)
  if v then
    local _, p = lease_of(v)
    pending = p
  end
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  redis.call('HSET', KEYS[3], id, score .. ':' .. pending .. ':' .. ARGV[4])
  out[#out + 1] = id
  out[#out + 1] = score
end
return out
"""
)

# KEYS: due, leased, lease. ARGV: case id, worker, next due (micros) or '' for none.
# Returns {1, ''} when released, {0, ''} when no holder is recorded, {-1, holder} otherwise.
_RELEASE_CASE = (
    _TIMER_HELPERS
    + """
local v = redis.call('HGET', KEYS[3], ARGV[1])
if not v then return {0, ''} end
local _, pending, holder = lease_of(v)
if holder ~= ARGV[2] then return {-1, holder} end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local nxt = ARGV[3]
if pending ~= '' and (nxt == '' or tonumber(pending) < tonumber(nxt)) then nxt = pending end
if nxt == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], nxt, ARGV[1])
end
return {1, ''}
"""
)


def redact_url(url: str) -> str:
    """The URL as an operator may see it: any password (user info or query) replaced."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparseable Redis URL>"
    netloc = parts.netloc
    if password is not None:
        host = netloc.rpartition("@")[2]
        netloc = f"{parts.username or ''}:***@{host}"
    query = parts.query
    if "pass" in query.lower():
        query = urlencode(
            [
                (k, "***" if "pass" in k.lower() else v)
                for k, v in parse_qsl(query, keep_blank_values=True)
            ]
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class RedisStore(RedisEvidence):
    """`Store` on Redis, for several workers at once (see the module docstring for the why)."""

    def __init__(self, url: str, prefix: str = "fd:") -> None:
        self._url = url
        self._safe_url = redact_url(url)
        self._secrets = _secrets(url)
        self._prefix = prefix
        self._redis: aioredis.Redis | None = None
        self._save_conversation: AsyncScript | None = None
        self._create_case: AsyncScript | None = None
        self._update_case: AsyncScript | None = None
        self._list_cases: AsyncScript | None = None
        self._rewrite_case: AsyncScript | None = None
        self._append_audit: AsyncScript | None = None
        self._audit_matches: AsyncScript | None = None
        self._migrate_audit: AsyncScript | None = None
        self._count: AsyncScript | None = None
        self._migrate_cases: AsyncScript | None = None
        self._enqueue_outbox: AsyncScript | None = None
        self._claim_outbox: AsyncScript | None = None
        self._complete_outbox: AsyncScript | None = None
        self._defer_outbox: AsyncScript | None = None
        self._schedule_case: AsyncScript | None = None
        self._claim_due_cases: AsyncScript | None = None
        self._release_case: AsyncScript | None = None

    def __repr__(self) -> str:
        return f"RedisStore({self._safe_url!r}, prefix={self._prefix!r})"

    # -- lifecycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, check Redis answers, register the scripts. Idempotent."""
        if self._redis is not None:
            return
        try:
            # A blocking pool: under load a call waits for a free connection instead of
            # failing with "Too many connections" (which lost events after their ack).
            pool = aioredis.BlockingConnectionPool.from_url(
                self._url,
                decode_responses=True,
                socket_connect_timeout=5,
                health_check_interval=30,
                max_connections=MAX_CONNECTIONS,
                timeout=POOL_WAIT_SECONDS,
            )
            client = aioredis.Redis(connection_pool=pool)
        except ValueError as exc:
            raise StoreError(
                f"invalid Redis URL {self._safe_url}: {self._scrub(str(exc))}"
            ) from exc
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            await client.aclose()
            raise StoreError(self._describe(exc, "answer PING")) from exc
        self._save_conversation = client.register_script(_SAVE_CONVERSATION)
        self._create_case = client.register_script(_CREATE_CASE)
        self._update_case = client.register_script(_UPDATE_CASE)
        self._list_cases = client.register_script(_LIST_CASES)
        self._rewrite_case = client.register_script(_REWRITE_CASE)
        self._append_audit = client.register_script(_APPEND_AUDIT)
        self._audit_matches = client.register_script(_AUDIT_MATCHES)
        self._migrate_audit = client.register_script(_MIGRATE_AUDIT)
        self._count = client.register_script(_COUNT)
        self._migrate_cases = client.register_script(_MIGRATE_CASES)
        self._enqueue_outbox = client.register_script(_ENQUEUE_OUTBOX)
        self._claim_outbox = client.register_script(_CLAIM_OUTBOX)
        self._complete_outbox = client.register_script(_COMPLETE_OUTBOX)
        self._defer_outbox = client.register_script(_DEFER_OUTBOX)
        self._schedule_case = client.register_script(_SCHEDULE_CASE)
        self._claim_due_cases = client.register_script(_CLAIM_DUE_CASES)
        self._release_case = client.register_script(_RELEASE_CASE)
        self._redis = client
        try:
            await self._migrate()
        except BaseException:
            self._redis = None
            await client.aclose()
            raise
        log.info("Redis store open at %s with prefix %r", self._safe_url, self._prefix)

    async def _migrate(self) -> None:
        """Move cases a store before the case lists wrote (see "Case keys") to them."""
        legacy = self._key("cases", "all")
        client = self._client()
        async with self._errors("move cases to the case lists"):
            ids = await client.zrange(legacy, 0, MIGRATE_BATCH - 1)
            moved = 0
            while ids:
                left = await self._script(self._migrate_cases)(
                    keys=[legacy], args=[self._key(""), BUCKET, *ids])
                moved += len(ids)
                ids = await client.zrange(legacy, 0, MIGRATE_BATCH - 1) if left else []
            unreadable = await client.zcard(self._key("cases", "unmigrated"))
        if moved:
            log.info("moved %d cases to the case lists", moved)
        if unreadable:
            log.error("%d cases of the earlier layout are unreadable and were left as they were "
                      "(their ids: sorted set %s)", unreadable, self._key("cases", "unmigrated"))
        async with self._errors("move the audit list to the audit log"):
            left = 1
            while left:
                left = await self._script(self._migrate_audit)(
                    keys=[self._key("audit"), self._key("audit", "seq")],
                    args=[self._audit_list(""), AUDIT_BUCKET, AUDIT_MIGRATE_BATCH])
        await self._check_durability()

    async def _check_durability(self) -> None:
        """Say so when Redis keeps no append-only file: a crash of Redis would lose what was
        written since its last snapshot (README: what each store keeps through a crash)."""
        try:
            found = await self._client().config_get("appendonly")
        except (RedisError, OSError):  # CONFIG may be refused (managed Redis): don't guess
            return
        if str(found.get("appendonly", "")).lower() == "no":
            log.warning("Redis at %s keeps no append-only file: a crash of Redis loses what "
                        "was written since its last snapshot; set appendonly yes and "
                        "appendfsync everysec", self._safe_url)

    async def close(self) -> None:
        """Close the connection pool; safe to call twice or before `open`."""
        client, self._redis = self._redis, None
        if client is not None:
            await client.aclose(close_connection_pool=True)

    # -- plumbing -----------------------------------------------------------------------------

    def _client(self) -> aioredis.Redis:
        if self._redis is None:
            raise StoreError(f"the Redis store at {self._safe_url} is not open (call open() first)")
        return self._redis

    def _script(self, script: AsyncScript | None) -> AsyncScript:
        self._client()
        assert script is not None
        return script

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _describe(self, exc: BaseException, what: str) -> str:
        """What went wrong, for an operator: which Redis (redacted), what failed, and why."""
        detail = self._scrub(str(exc)) or type(exc).__name__
        if isinstance(exc, AuthenticationError | AuthorizationError):
            return f"Redis at {self._safe_url} refused our credentials: {detail}"
        if isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError):
            return f"cannot reach Redis at {self._safe_url}: {detail}"
        return f"Redis at {self._safe_url} failed to {what}: {detail}"

    @asynccontextmanager
    async def _errors(self, what: str) -> AsyncIterator[None]:
        """Turn redis-py's errors into StoreError an operator can act on, without secrets."""
        try:
            yield
        except (RedisError, OSError) as exc:
            raise StoreError(self._describe(exc, what)) from exc

    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    def _case_list(self, case_id: str) -> str:
        return self._key("c", case_id)

    def _case_args(
        self, stored: CaseRecord, extra: int, events: list[CaseEventRecord]
    ) -> list[str | int | bytes]:
        return [
            self._key(""),
            stored.id,
            stored.customer_id,
            str(stored.number // BUCKET),
            epoch_micros(stored.created_at, "created_at"),
            "1" if stored.status in OPEN_STATUSES else "0",
            extra,
            dump_case(stored),
            *(dump_event(event) for event in events),
        ]

    # -- conversations ------------------------------------------------------------------------

    async def load_conversation(self, key: str) -> tuple[dict[str, Any] | None, int]:
        async with self._errors("load a conversation"):
            state, version = await self._client().hmget(
                self._key("conv", key), ["state", "version"]
            )
        if state is None or version is None:
            return None, 0
        return load_state(state, key), int(version)

    async def save_conversation(
        self, key: str, state: dict[str, Any] | None, expected_version: int
    ) -> int:
        args: list[str | int] = (
            [expected_version, "0"]
            if state is None
            else [
                expected_version,
                "1",
                dump_state(state),
            ]
        )
        async with self._errors("save a conversation"):
            ok, version = await self._script(self._save_conversation)(
                keys=[self._key("conv", key)], args=args
            )
        if not ok:
            raise StaleWriteError(
                f"conversation {key!r} is at version {version}, not {expected_version}"
            )
        return int(version)

    async def conversations_ending(self, suffix: str) -> list[tuple[str, dict[str, Any], int]]:
        if not suffix:
            raise ValueError("give the end of the conversation keys to find")
        start = self._key("conv", "")
        client = self._client()
        found: list[tuple[str, dict[str, Any], int]] = []
        async with self._errors("find conversations"):
            keys = sorted({key async for key in client.scan_iter(
                match=_glob_escape(start) + "*" + _glob_escape(suffix), count=1000)})
            for key in keys:
                state, version = await client.hmget(key, ["state", "version"])
                if state is not None and version is not None:
                    name = key[len(start):]
                    found.append((name, load_state(state, name), int(version)))
        return found

    # -- cases --------------------------------------------------------------------------------

    async def next_case_number(self, customer_id: str) -> int:
        async with self._errors("allocate a case number"):
            return int(await self._client().incr(self._key("casenum", customer_id)))

    async def create_case(self, case: CaseRecord, events: Iterable[CaseEventRecord]) -> CaseRecord:
        stored = case.model_copy(update={"version": 1})
        args = self._case_args(stored, 0, own_events(case.id, events))
        keys = [self._case_list(case.id), self._key("case", case.id)]
        async with self._errors(f"create case {case.id}"):
            created = await self._script(self._create_case)(keys=keys, args=args)
        if not created:
            raise StoreError(f"case {case.id} already exists")
        return stored

    async def get_case(self, case_id: str) -> CaseRecord | None:
        async with self._errors("read a case"):
            data = await self._client().execute_command(  # type: ignore[no-untyped-call]
                "LINDEX", self._case_list(case_id), 3, **{NEVER_DECODE: True})
        return None if data is None else load_case(data)

    async def update_case(
        self, case: CaseRecord, expected_version: int, events: Iterable[CaseEventRecord]
    ) -> CaseRecord:
        stored = case.model_copy(update={"version": expected_version + 1})
        args = self._case_args(stored, expected_version, own_events(case.id, events))
        async with self._errors(f"update case {case.id}"):
            outcome, version = await self._script(self._update_case)(
                keys=[self._case_list(case.id)], args=args
            )
        if outcome == -1:
            raise StoreError(f"case {case.id} does not exist (create it first)")
        if outcome == -2:
            raise StoreError(f"case {case.id} belongs to another customer; it cannot move")
        if outcome == 0:
            raise StaleWriteError(f"case {case.id} is at version {version}, not {expected_version}")
        return stored

    async def rewrite_case(
        self, case: CaseRecord, expected_version: int, history: Sequence[CaseEventRecord],
        appended: Iterable[CaseEventRecord] = (),
    ) -> CaseRecord:
        stored = case.model_copy(update={"version": expected_version + 1})
        rows = rewritten_history(case.id, history)
        args = self._case_args(stored, expected_version, [])
        args += [len(rows), *(dump_event(e) for e in rows),
                 *(dump_event(e) for e in own_events(case.id, appended))]
        async with self._errors(f"rewrite case {case.id}"):
            outcome, value = await self._script(self._rewrite_case)(
                keys=[self._case_list(case.id)], args=args)
        if outcome in (-1, -2):
            raise StoreError(f"case {case.id} of {case.customer_id!r} does not exist")
        if outcome == -3:
            raise StoreError(f"case {case.id} has {value} events, not {len(rows)}: read its "
                             "history again and rewrite all of it")
        if outcome == 0:
            raise StaleWriteError(f"case {case.id} is at version {value}, not {expected_version}")
        return stored

    async def case_events(self, case_id: str) -> list[CaseEventRecord]:
        async with self._errors("read case events"):
            items = await self._client().lrange(self._case_list(case_id), 4, -1)
        return [load_event(item, case_id, seq) for seq, item in enumerate(items, 1)]

    async def list_cases(
        self, customer_ids: Iterable[str] | None = None, open_only: bool = True
    ) -> list[CaseRecord]:
        customers = [] if customer_ids is None else sorted(set(customer_ids))
        if customer_ids is not None and not customers:
            return []
        client = self._client()
        async with self._errors("list cases"):
            flat = await self._script(self._list_cases)(
                args=[self._key(""), "1" if open_only else "0", *customers])
            ranked = sorted(((float(flat[i + 1]), str(flat[i])) for i in range(0, len(flat), 2)),
                            reverse=True)  # newest first; ties by id, descending, as SQLite
            pipe = client.pipeline(transaction=False)
            for _, case_id in ranked:
                pipe.execute_command("LINDEX", self._case_list(case_id), 3,
                                     **{NEVER_DECODE: True})
            blobs: list[bytes | None] = await pipe.execute() if ranked else []
        cases = [load_case(blob)
                 for (_, case_id), blob in zip(ranked, blobs, strict=True) if blob is not None]
        if open_only:  # a case closed between reading the index and reading the case
            cases = [c for c in cases if c.status in OPEN_STATUSES]
        return cases

    # -- audit, once-only keys, authorised users ----------------------------------------------

    def _audit_list(self, bucket: int | str) -> str:
        return self._key("audit", "log", str(bucket))

    async def _last_audit_seq(self) -> int:
        return int(await self._client().get(self._key("audit", "seq")) or 0)

    async def append_audit(self, entry: AuditRecord) -> int:
        epoch_micros(entry.at, "at")  # refuse naive instants as SQLite does
        async with self._errors("append an audit entry"):
            seq = await self._script(self._append_audit)(
                keys=[self._key("audit", "seq")],
                args=[self._audit_list(""), AUDIT_BUCKET, dump_record(entry)])
        return int(seq)

    async def audit_entries(
        self, case_id: str | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        """Newest first. A case's entries are those of the log that name it, then those a
        store before the case lists kept for it (P audit:case:<id>)."""
        if limit <= 0:
            return []
        client = self._client()
        items: list[str] = []
        async with self._errors("read audit entries"):
            bucket = (await self._last_audit_seq() - 1) // AUDIT_BUCKET
            needle = None if case_id is None else \
                '"case_id":' + json.dumps(case_id, ensure_ascii=False)
            while bucket >= 0 and len(items) < limit:
                want = limit - len(items)
                if needle is None:
                    found = await client.lrange(self._audit_list(bucket), -want, -1)
                    items += [str(item) for item in reversed(found)]
                else:
                    flat = await self._script(self._audit_matches)(
                        keys=[self._audit_list(bucket)], args=[needle, want])
                    items += [str(flat[i]) for i in range(1, len(flat), 2)]
                bucket -= 1
            if case_id is not None and len(items) < limit:  # an earlier layout's own list
                legacy = [str(i) for i in
                          await client.lrange(self._key("audit", "case", case_id), 0, -1)]
                seen = set(items)
                items += [i for i in legacy if i not in seen][: limit - len(items)]
        entries = [parse(AuditRecord, item) for item in items]
        return entries if case_id is None else [e for e in entries if e.case_id == case_id]

    async def audit_log(self, after: int = 0, limit: int = 1000) -> list[tuple[int, AuditRecord]]:
        out: list[tuple[int, AuditRecord]] = []
        client = self._client()
        async with self._errors("read the audit log"):
            last = await self._last_audit_seq()
            seq = max(after, 0) + 1
            while seq <= last and len(out) < limit:
                bucket, index = divmod(seq - 1, AUDIT_BUCKET)
                want = min(limit - len(out), AUDIT_BUCKET - index, last - seq + 1)
                found = await client.lrange(self._audit_list(bucket), index, index + want - 1)
                out += [(seq + i, parse(AuditRecord, item)) for i, item in enumerate(found)]
                seq = seq + len(found) if found else (bucket + 1) * AUDIT_BUCKET + 1
        return out

    async def replace_audit(self, seq: int, entry: AuditRecord) -> None:
        epoch_micros(entry.at, "at")
        async with self._errors(f"rewrite audit entry {seq}"):
            if not 1 <= seq <= await self._last_audit_seq():
                raise StoreError(f"there is no audit entry {seq}")
            bucket, index = divmod(seq - 1, AUDIT_BUCKET)
            await self._client().lset(self._audit_list(bucket), index, dump_record(entry))

    async def count(self, key: str, ttl_seconds: int) -> int:
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be at least 1, got {ttl_seconds}")
        async with self._errors("count"):
            return int(await self._script(self._count)(
                keys=[self._key("count", key)], args=[ttl_seconds]))

    async def claim_once(self, key: str, ttl_seconds: int) -> bool:
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be at least 1, got {ttl_seconds}")
        async with self._errors("claim a once-only key"):
            claimed = await self._client().set(self._key("once", key), "1", nx=True, ex=ttl_seconds)
        return bool(claimed)

    async def put_authorised_user(self, user: AuthorisedUser) -> None:
        async with self._errors("store an authorised user"):
            await self._client().hset(
                self._key("users", user.customer_id), user.user_id, user.model_dump_json()
            )

    async def remove_authorised_user(self, customer_id: str, user_id: str) -> bool:
        async with self._errors("remove an authorised user"):
            removed = await self._client().hdel(self._key("users", customer_id), user_id)
        return int(removed) == 1

    async def authorised_users(self, customer_id: str) -> list[AuthorisedUser]:
        async with self._errors("list authorised users"):
            found = await self._client().hgetall(self._key("users", customer_id))
        return [parse(AuthorisedUser, found[user_id]) for user_id in sorted(found)]

    # -- attachments --------------------------------------------------------------------------

    async def add_attachment(self, attachment: AttachmentRecord) -> None:
        epoch_micros(attachment.added_at, "added_at")
        async with self._errors("keep an attachment record"):
            await self._client().hset(self._key("att", attachment.customer_id), attachment.id,
                                      dump_record(attachment))

    async def attachments(
        self, customer_id: str, case_id: str | None = None
    ) -> list[AttachmentRecord]:
        async with self._errors("list attachments"):
            found = await self._client().hvals(self._key("att", customer_id))
        records = (parse(AttachmentRecord, item) for item in found)
        return sorted_attachments(a for a in records if case_id is None or a.case_id == case_id)

    async def remove_attachment(self, customer_id: str, attachment_id: str) -> bool:
        async with self._errors("forget an attachment record"):
            removed = await self._client().hdel(self._key("att", customer_id), attachment_id)
        return int(removed) == 1

    # -- outbox -------------------------------------------------------------------------------

    def _outbox_base(self) -> str:
        return self._key("outbox", "")

    def _outbox_key(self, name: str) -> str:
        return self._key("outbox", name)

    async def enqueue_outbox(self, items: Iterable[OutboxItem]) -> int:
        args: list[str | int] = [self._outbox_base()]
        for item in items:
            epoch_micros(item.created_at, "created_at")  # refuse naive instants as SQLite does
            args += [
                item.id,
                item.key,
                "0" if item.case_id is None else "1",
                item.case_id or "",
                str(epoch_micros(item.due_at, "due_at")),
                item.model_dump_json(),
                item.attempts,
                "0" if item.last_error is None else "1",
                item.last_error or "",
            ]
        if len(args) == 1:
            return 0
        keys = [self._outbox_key(n) for n in ("seq", "ids", "ready")]
        async with self._errors("enqueue outbox items"):
            result = await self._script(self._enqueue_outbox)(keys=keys, args=args)
        if int(result[0]) < 0:
            raise StoreError(
                f"outbox item {result[1]} already exists under another key;"
                " nothing of this batch was enqueued"
            )
        return int(result[0])

    async def claim_outbox(
        self, now: datetime, limit: int, lease_seconds: float, worker: str
    ) -> list[OutboxItem]:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")
        if limit <= 0:
            return []
        at = epoch_micros(now, "now")
        until = epoch_micros(now + timedelta(seconds=lease_seconds), "now")
        keys = [self._outbox_key("ready"), self._outbox_key("leased")]
        args: list[str | int] = [
            self._outbox_base(),
            str(at),
            str(until),
            limit,
            worker,
            RECLAIM_BATCH,
        ]
        async with self._errors("claim outbox items"):
            flat = await self._script(self._claim_outbox)(keys=keys, args=args)
        claimed: list[OutboxItem] = []
        for i in range(0, len(flat), 5):
            data, due_iso, attempts, has_error, error = flat[i : i + 5]
            update: dict[str, Any] = {
                "attempts": int(attempts),
                "last_error": error if has_error == "1" else None,
            }
            if due_iso:
                update["due_at"] = datetime.fromisoformat(due_iso)
            claimed.append(parse(OutboxItem, data).model_copy(update=update))
        return claimed

    async def complete_outbox(self, item_id: str, worker: str) -> None:
        keys = [self._outbox_key(n) for n in ("ready", "leased", "ids")]
        args: list[str | int] = [
            self._outbox_base(),
            item_id,
            worker,
            OUTBOX_DELIVERED_TTL_SECONDS,
        ]
        async with self._errors(f"complete outbox item {item_id}"):
            outcome, holder = await self._script(self._complete_outbox)(keys=keys, args=args)
        if int(outcome) != 1:
            ignored_settlement(log, "complete", item_id, worker, int(outcome) == -1, holder)

    async def defer_outbox(self, item_id: str, worker: str, until: datetime, error: str,
                           count_attempt: bool = True) -> None:
        keys = [self._outbox_key("ready"), self._outbox_key("leased")]
        due = str(epoch_micros(until, "until"))
        args = [self._outbox_base(), item_id, worker, due, until.isoformat(), clean_error(error),
                "1" if count_attempt else "0"]
        async with self._errors(f"defer outbox item {item_id}"):
            outcome, holder = await self._script(self._defer_outbox)(keys=keys, args=args)
        if int(outcome) != 1:
            ignored_settlement(log, "defer", item_id, worker, int(outcome) == -1, holder)

    async def outbox_pending(self) -> int:
        async with self._errors("count outbox items"):
            return int(await self._client().scard(self._outbox_key("ids")))

    # -- case timers --------------------------------------------------------------------------

    def _timer_keys(self, *names: str) -> list[str]:
        return [self._key("timers", name) for name in names]

    async def schedule_case(self, case_id: str, due_at: datetime | None) -> None:
        due = "" if due_at is None else str(epoch_micros(due_at, "due_at"))
        async with self._errors(f"schedule case {case_id}"):
            await self._script(self._schedule_case)(
                keys=self._timer_keys("due", "lease"), args=[case_id, due]
            )

    async def claim_due_cases(
        self, now: datetime, limit: int, lease_seconds: float, worker: str
    ) -> list[tuple[str, datetime]]:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")
        if limit <= 0:
            return []
        at = epoch_micros(now, "now")
        until = epoch_micros(now + timedelta(seconds=lease_seconds), "now")
        args: list[str | int] = [str(at), str(until), limit, worker, RECLAIM_BATCH]
        async with self._errors("claim due cases"):
            flat = await self._script(self._claim_due_cases)(
                keys=self._timer_keys("due", "leased", "lease"), args=args
            )
        return [(str(flat[i]), from_epoch_micros(str(flat[i + 1]))) for i in range(0, len(flat), 2)]

    async def release_case(self, case_id: str, worker: str, next_due: datetime | None) -> None:
        due = "" if next_due is None else str(epoch_micros(next_due, "next_due"))
        async with self._errors(f"release case {case_id}"):
            outcome, holder = await self._script(self._release_case)(
                keys=self._timer_keys("due", "leased", "lease"), args=[case_id, worker, due]
            )
        if int(outcome) != 1:
            ignored_release(log, case_id, worker, holder or None)

    async def scheduled_cases(self) -> int:
        async with self._errors("count scheduled cases"):
            pipe = self._client().pipeline(transaction=True)  # one instant for both counts
            pipe.zcard(self._key("timers", "due"))
            pipe.zcard(self._key("timers", "leased"))
            due, leased = await pipe.execute()
        return int(due) + int(leased)



def _glob_escape(text: str) -> str:
    """`text` matched literally in a SCAN MATCH pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def _secrets(url: str) -> list[str]:
    """Every password-like value in the URL, to scrub from error text (longest first)."""
    try:
        parts = urlsplit(url)
        found = [parts.password] if parts.password else []
        found += [v for k, v in parse_qsl(parts.query) if "pass" in k.lower() and v]
    except ValueError:
        return []
    return sorted(set(found), key=len, reverse=True)
