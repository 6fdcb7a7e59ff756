--[[ Session rules for the session scripts (scripts.ts puts this file in front of each of them).
It restates, for Redis, rules whose home is TypeScript: the TTL rule of src/session/session-ttl.ts
and the secret classification of src/session/retired-secrets.ts. test/lua-rules-agree.test.ts
proves both sides agree; test/store-differential.test.ts proves the whole stores do.
Scripts decide expiry by the time clock.lua gives them, never by whether Redis has dropped a key
yet.
]]

local function sessionExpiry (createdAt, lastUsedAt, idleTtl, absoluteTtl)
  return math.min(lastUsedAt + idleTtl, createdAt + absoluteTtl)
end

-- Revocations are announced as `<ms>:<id>,<id>...`, the time letting listeners measure the delay.
local function announce (channel, now, ids)
  if channel ~= '' then redis.call('PUBLISH', channel, now .. ':' .. ids) end
end

-- A record's PXAT is its session's expiry: PEXPIRETIME tells liveness without unpacking it.
local function isLiveKey (key, now)
  return redis.call('PEXPIRETIME', key) > now
end

-- A session made before the user's last revoke-all (`<ms>:<kept id>`, see revoke-all-3.lua) and
-- not kept by it is revoked, even if the index lost it.
local function isRevokedByMark (markKey, createdAt, sid)
  local mark = redis.call('GET', markKey)
  if not mark then return false end
  local markedAt, kept = string.match(mark, '^(%d+):(.*)$')
  return createdAt < tonumber(markedAt) and sid ~= kept
end

-- 0-based position of the fingerprint among the concatenated older ones, or -1.
local function olderPosition (older, fingerprint, fpBytes)
  for i = 1, #older, fpBytes do
    if string.sub(older, i, i + fpBytes - 1) == fingerprint then return (i - 1) / fpBytes end
  end
  return -1
end

-- A stored verifier (a SHA-256 prefix: 16 bytes, or the whole 32 in a layout 1 record) matches
-- the presented SHA-256 that starts with it.
local function verifies (stored, presented)
  return string.sub(presented, 1, #stored) == stored
end

-- newest | grace | reused-predecessor | stale | reused-older | unknown
local function classifySecret (newest, previous, older, rotatedAt, previousRotatedAt, presented, now, grace, fpBytes)
  if verifies(newest, presented) then return 'newest' end
  if previous ~= '' and verifies(previous, presented) then
    if now - rotatedAt <= grace then return 'grace' end
    return 'reused-predecessor'
  end
  local position = olderPosition(older, string.sub(presented, 1, fpBytes), fpBytes)
  if position == 0 and now - previousRotatedAt <= grace then return 'stale' end
  if position == -1 then return 'unknown' end
  return 'reused-older'
end
