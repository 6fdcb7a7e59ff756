--[[ Refresh: rotation, grace replay, reuse detection and the TTL update in one script, so that
a refresh is one round trip and no interleaving of refresh, logout and revoke can leave a token
that works after a revoke has answered.
KEYS[1] the user's session index      KEYS[2] the session record
ARGV[1] session id
ARGV[2] SHA-256 of the presented secret
ARGV[3] SHA-256 of the successor secret (used only when rotating)
ARGV[4] successor secret sealed under the presented one
ARGV[5] idle ttl ms   ARGV[6] absolute ttl ms   ARGV[7] reuse grace ms
ARGV[8] client id of the request ('' = none)
ARGV[9] fingerprint bytes   ARGV[10] older fingerprints kept
ARGV[11] how long the index outlives its newest session, ms
ARGV[12] revocation channel ('' = do not publish)
Reply:
  { 'rotated', createdAt, lastUsedAt, expiresAt, userAgent, ip, clientId, data }
  { 'grace',   createdAt, lastUsedAt, expiresAt, userAgent, ip, clientId, data, sealedSuccessor }
  { 'reused', 'predecessor' | 'older' }   (the session is gone)
  { 'stale' }   the token retired by the rotation before the last, inside that rotation's grace
               window: a late duplicate of a retried request; refused, the session untouched
  { 'invalid' } | { 'missing' } | { 'expired' }
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local index, key, sid, presented = KEYS[1], KEYS[2], ARGV[1], ARGV[2]

local packed = redis.call('GET', key)
if not packed then
  local score = redis.call('ZSCORE', index, sid)
  if score then
    redis.call('ZREM', index, sid)
    if tonumber(score) <= now then return { 'expired' } end
  end
  return { 'missing' }
end

local h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt = unpack(cmsgpack.unpack(packed))
local lastUsed = rotatedAt
if lastUsed == 0 then lastUsed = createdAt end
local absoluteEnd = createdAt + tonumber(ARGV[6])
local expiresAt = math.min(lastUsed + tonumber(ARGV[5]), absoluteEnd)

local function revoke ()
  redis.call('DEL', key)
  redis.call('ZREM', index, sid)
end

local function revokeAsReused ()
  revoke()
  if ARGV[12] ~= '' then redis.call('PUBLISH', ARGV[12], sid) end
end

if expiresAt <= now then
  revoke()
  return { 'expired' }
end
if cid ~= ARGV[8] then return { 'invalid' } end

if presented == h then
  local fpBytes = tonumber(ARGV[9])
  -- The predecessor joins the older fingerprints; when it was retired is kept for 'stale'.
  if p ~= '' then
    older = string.sub(string.sub(p, 1, fpBytes) .. older, 1, fpBytes * tonumber(ARGV[10]))
    previousRotatedAt = rotatedAt
  end
  local newExpiresAt = math.min(now + tonumber(ARGV[5]), absoluteEnd)
  redis.call('SET', key, cmsgpack.pack({ ARGV[3], createdAt, now, presented, ARGV[4], older, ua, ip, cid, data, previousRotatedAt or 0 }), 'PXAT', newExpiresAt)
  redis.call('ZADD', index, newExpiresAt, sid)
  -- The index lives as long as its latest session (+ linger). GT only ever extends it (Redis 7+);
  -- it treats a key without TTL as infinite, so such a key (re-created by ZADD) gets one plainly.
  local indexExpiresAt = newExpiresAt + tonumber(ARGV[11])
  if redis.call('PEXPIREAT', index, indexExpiresAt, 'GT') == 0 and redis.call('PTTL', index) == -1 then
    redis.call('PEXPIREAT', index, indexExpiresAt)
  end
  return { 'rotated', createdAt, now, newExpiresAt, ua, ip, cid, data }
end

if presented == p then
  if now - lastUsed <= tonumber(ARGV[7]) then
    return { 'grace', createdAt, lastUsed, expiresAt, ua, ip, cid, data, sealed }
  end
  revokeAsReused()
  return { 'reused', 'predecessor' }
end

local fpBytes = tonumber(ARGV[9])
local fingerprint = string.sub(presented, 1, fpBytes)
for i = 1, #older, fpBytes do
  if string.sub(older, i, i + fpBytes - 1) == fingerprint then
    -- The first older one was retired at previousRotatedAt: inside that grace window it is a late
    -- duplicate (a request retried after a timeout), not theft.
    if i == 1 and now - (previousRotatedAt or 0) <= tonumber(ARGV[7]) then return { 'stale' } end
    revokeAsReused()
    return { 'reused', 'older' }
  end
end
return { 'invalid' }
