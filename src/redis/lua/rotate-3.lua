--[[ Refresh: rotation, grace replay, reuse detection and the TTL update in one script, so that
a refresh is one round trip and no interleaving of refresh, logout and revoke can leave a token
that works after a revoke has answered.
KEYS[1] the user's session index (or their only session: see record.lua)      KEYS[2] the session record
KEYS[3] the user's revoke-all mark (see revoke-all-3.lua)
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] deadline ms ('' = none)
ARGV[3] session id
ARGV[4] the secrets, as bytes: the SHA-256 of the presented secret (whole, 32 bytes: a layout 1
        record keeps whole hashes), the verifier of the successor secret (kept only when
        rotating), then the successor's seed sealed under the presented secret
ARGV[5] the store's settings, `<idle ttl ms>:<absolute ttl ms>:<reuse grace ms>:<fingerprint bytes>:
        <older fingerprints kept>:<how long the index outlives its newest session, ms>:<verifier bytes>`
        (one argument, built once per store: each argument costs the client and Redis)
ARGV[6] client id of the request ('' = none)
ARGV[7] revocation channel ('' = do not publish)
ARGV[8] the binding the request proved ('' = none), as the record keeps it (../compact-fields.ts)
ARGV[9] the same binding as text (`<kind>:<thumbprint>`), as a layout 1 record kept it
Reply: 'late' (nothing written) after the deadline; else
  { 'rotated', createdAt, lastUsedAt, expiresAt, userAgent, ip, clientId, data, authentication, binding, boundNow }
  (boundNow: 1 when this rotation bound an unbound session, else 0)
  { 'grace',   createdAt, lastUsedAt, expiresAt, userAgent, ip, clientId, data, authentication, binding, sealedSuccessor }
  { 'reused', 'predecessor' | 'older' }   (the session is gone)
  { 'stale' } | { 'invalid' } | { 'unbound' } | { 'missing' } | { 'expired' }
]]
local now = nowMs(ARGV[1])
if isLate(now, ARGV[2]) then return 'late' end
local index, key, sid = KEYS[1], KEYS[2], ARGV[3]
local idle, absolute, grace, fpBytes, olderKept, linger, verifierBytes = string.match(ARGV[5], '^(%d+):(%d+):(%d+):(%d+):(%d+):(%d+):(%d+)$')
idle, absolute, grace, fpBytes, olderKept, linger, verifierBytes = tonumber(idle), tonumber(absolute), tonumber(grace), tonumber(fpBytes), tonumber(olderKept), tonumber(linger), tonumber(verifierBytes)
local presented = string.sub(ARGV[4], 1, 32)
local successor = string.sub(ARGV[4], 33, 32 + verifierBytes)
local sealedSuccessor = string.sub(ARGV[4], 33 + verifierBytes)

local packed = redis.call('GET', key)
-- Not at a key of its own: the index key may hold the user's only session (see record.lua).
local solo = false
if not packed then
  packed = soloValue(index)
  solo = packed ~= nil
end
local h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt, auth, binding, soloSid, soloExpiresAt
local expiresAt = 0
if packed then
  h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt, auth, binding, soloSid, soloExpiresAt = readRecord(packed, fpBytes)
  -- Another session is the user's only one: this one has no record and no index entry.
  if solo and soloSid ~= sid then return { 'missing' } end
  local lastUsed = rotatedAt
  if lastUsed == 0 then lastUsed = createdAt end
  expiresAt = sessionExpiry(createdAt, lastUsed, idle, absolute)
  if isRevokedByMark(KEYS[3], createdAt, sid) then expiresAt = 0 end
end
if solo and expiresAt <= now then
  -- At its end: its expiry, while the key lives, tells expired from missing, as an index entry does.
  local ended = soloExpiresAt <= now and isLiveKey(index, now)
  redis.call('DEL', index)
  if ended then return { 'expired' } end
  return { 'missing' }
end
if not packed or expiresAt <= now then
  -- Gone or at its end: the index entry, while the index lives, tells expired from missing.
  if packed then redis.call('DEL', key) end
  -- (pcall: after an index was lost, the index key may hold another session, solo.)
  local score = redis.pcall('ZSCORE', index, sid)
  if type(score) ~= 'string' then return { 'missing' } end
  -- Asked before ZREM, which deletes an index it leaves empty.
  local ended = tonumber(score) <= now and isLiveKey(index, now)
  redis.call('ZREM', index, sid)
  if ended then return { 'expired' } end
  return { 'missing' }
end
if cid ~= ARGV[6] then return { 'invalid' } end
-- Before the secret is classified: without the key, even a retired token cannot revoke the session.
-- (A layout 1 record keeps the binding as text: ARGV[9].)
if binding ~= '' and binding ~= ARGV[8] and binding ~= ARGV[9] then return { 'unbound' } end

local function revokeAsReused (kind)
  removeSession(solo, index, key, sid)
  announce(ARGV[7], now, sid)
  return { 'reused', kind }
end

local class = classifySecret(h, p, older, rotatedAt, previousRotatedAt, presented, now, grace, fpBytes)
if class == 'newest' then
  -- The predecessor joins the older fingerprints; when it was retired is kept for 'stale'. The
  -- presented secret becomes the predecessor, kept as a verifier as long as the successor's.
  if p ~= '' then
    older = string.sub(string.sub(p, 1, fpBytes) .. older, 1, fpBytes * olderKept)
    previousRotatedAt = rotatedAt
  end
  local boundNow = 0
  if binding == '' and ARGV[8] ~= '' then boundNow = 1 end
  binding = ARGV[8]
  local newExpiresAt = sessionExpiry(createdAt, now, idle, absolute)
  local predecessor = string.sub(presented, 1, verifierBytes)
  if solo then
    redis.call('SET', index, packRecord(successor, createdAt, now, predecessor, sealedSuccessor, older, ua, ip, cid, data, previousRotatedAt, auth, binding, sid, newExpiresAt), 'PXAT', newExpiresAt + linger)
  else
    redis.call('SET', key, packRecord(successor, createdAt, now, predecessor, sealedSuccessor, older, ua, ip, cid, data, previousRotatedAt, auth, binding), 'PXAT', newExpiresAt)
    -- The index lives as long as its latest session (+ linger). GT only ever extends it (Redis 7+);
    -- it treats a key without TTL as infinite, so a key ZADD (re)created, which it says by adding
    -- the member, gets one plainly. An index that already had the member has its TTL.
    local added = redis.pcall('ZADD', index, newExpiresAt, sid)
    if type(added) == 'table' then
      -- The index was lost (evicted) and another session has since been kept solo in its key.
      unsolo(index, string.sub(key, 1, #key - #sid), now)
      added = redis.call('ZADD', index, newExpiresAt, sid)
    end
    local indexExpiresAt = newExpiresAt + linger
    if redis.call('PEXPIREAT', index, indexExpiresAt, 'GT') == 0 and added == 1 and redis.call('PTTL', index) == -1 then
      redis.call('PEXPIREAT', index, indexExpiresAt)
    end
  end
  return { 'rotated', createdAt, now, newExpiresAt, ua, ip, cid, data, auth, binding, boundNow }
end
if class == 'grace' then return { 'grace', createdAt, rotatedAt, expiresAt, ua, ip, cid, data, auth, binding, sealed } end
if class == 'reused-predecessor' then return revokeAsReused('predecessor') end
if class == 'reused-older' then return revokeAsReused('older') end
if class == 'stale' then return { 'stale' } end
return { 'invalid' }
