--[[ Refresh: rotation, grace replay, reuse detection and the TTL update in one script, so that
a refresh is one round trip and no interleaving of refresh, logout and revoke can leave a token
that works after a revoke has answered.
KEYS[1] the user's session index      KEYS[2] the session record
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] session id
ARGV[3] SHA-256 of the presented secret
ARGV[4] SHA-256 of the successor secret (kept only when rotating)
ARGV[5] successor secret sealed under the presented one
ARGV[6] idle ttl ms   ARGV[7] absolute ttl ms   ARGV[8] reuse grace ms
ARGV[9] client id of the request ('' = none)
ARGV[10] fingerprint bytes   ARGV[11] older fingerprints kept
ARGV[12] how long the index outlives its newest session, ms
ARGV[13] revocation channel ('' = do not publish)
Reply:
  { 'rotated', createdAt, lastUsedAt, expiresAt, userAgent, ip, clientId, data }
  { 'grace',   createdAt, lastUsedAt, expiresAt, userAgent, ip, clientId, data, sealedSuccessor }
  { 'reused', 'predecessor' | 'older' }   (the session is gone)
  { 'stale' } | { 'invalid' } | { 'missing' } | { 'expired' }
]]
local now = nowMs(ARGV[1])
local index, key, sid, presented = KEYS[1], KEYS[2], ARGV[2], ARGV[3]
local idle, absolute, grace, fpBytes = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[10])

local packed = redis.call('GET', key)
local h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt
local expiresAt = 0
if packed then
  h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt = unpack(cmsgpack.unpack(packed))
  previousRotatedAt = previousRotatedAt or 0
  local lastUsed = rotatedAt
  if lastUsed == 0 then lastUsed = createdAt end
  expiresAt = sessionExpiry(createdAt, lastUsed, idle, absolute)
end
if not packed or expiresAt <= now then
  -- Gone or at its end: the index entry, while the index lives, tells expired from missing.
  if packed then redis.call('DEL', key) end
  local score = redis.call('ZSCORE', index, sid)
  if not score then return { 'missing' } end
  -- Asked before ZREM, which deletes an index it leaves empty.
  local ended = tonumber(score) <= now and isLiveKey(index, now)
  redis.call('ZREM', index, sid)
  if ended then return { 'expired' } end
  return { 'missing' }
end
if cid ~= ARGV[9] then return { 'invalid' } end

local function revokeAsReused (kind)
  redis.call('DEL', key)
  redis.call('ZREM', index, sid)
  if ARGV[13] ~= '' then redis.call('PUBLISH', ARGV[13], sid) end
  return { 'reused', kind }
end

local class = classifySecret(h, p, older, rotatedAt, previousRotatedAt, presented, now, grace, fpBytes)
if class == 'newest' then
  -- The predecessor joins the older fingerprints; when it was retired is kept for 'stale'.
  if p ~= '' then
    older = string.sub(string.sub(p, 1, fpBytes) .. older, 1, fpBytes * tonumber(ARGV[11]))
    previousRotatedAt = rotatedAt
  end
  local newExpiresAt = sessionExpiry(createdAt, now, idle, absolute)
  redis.call('SET', key, cmsgpack.pack({ ARGV[4], createdAt, now, presented, ARGV[5], older, ua, ip, cid, data, previousRotatedAt }), 'PXAT', newExpiresAt)
  redis.call('ZADD', index, newExpiresAt, sid)
  -- The index lives as long as its latest session (+ linger). GT only ever extends it (Redis 7+);
  -- it treats a key without TTL as infinite, so such a key (re-created by ZADD) gets one plainly.
  local indexExpiresAt = newExpiresAt + tonumber(ARGV[12])
  if redis.call('PEXPIREAT', index, indexExpiresAt, 'GT') == 0 and redis.call('PTTL', index) == -1 then
    redis.call('PEXPIREAT', index, indexExpiresAt)
  end
  return { 'rotated', createdAt, now, newExpiresAt, ua, ip, cid, data }
end
if class == 'grace' then return { 'grace', createdAt, rotatedAt, expiresAt, ua, ip, cid, data, sealed } end
if class == 'reused-predecessor' then return revokeAsReused('predecessor') end
if class == 'reused-older' then return revokeAsReused('older') end
if class == 'stale' then return { 'stale' } end
return { 'invalid' }
